"""A small reader of a GGUF file's header: metadata and tensor table, no weights.

The runtime checks a model file with it before llama.cpp sees it (so a
truncated or foreign file gives one clear line, not a C log), and reads the
codec's data (token list, bins, genres) from its metadata. Pure Python: the
``gguf`` package is a training dependency only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from patterns.files import FileError, check_user_file

GGUF_MAGIC = b"GGUF"
_SCALARS = {  # GGUF value type -> struct format
    0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d",
}
STRING, ARRAY = 8, 9
_TYPE_SIZES = {0: (1, 4), 1: (1, 2)}  # ggml type -> (block elements, block bytes): F32, F16


MAX_ARRAY_DEPTH = 4  # arrays of arrays: GGUF writers use one level; deeper is hostile
MAX_COUNT = 1 << 20  # tensors, metadata keys
MAX_DIMS = 4
MAX_DIM = 1 << 32
# the numeric fields the program reads, and their sane ranges
_INT_FIELDS = {
    "gpt2.context_length": (1, 1 << 16),
    "gpt2.embedding_length": (1, 1 << 16),
    "gpt2.feed_forward_length": (1, 1 << 18),
    "gpt2.block_count": (1, 1024),
    "gpt2.attention.head_count": (1, 1024),
    "autobeat.format_version": (0, 1 << 16),
    "autobeat.grid.steps": (1, 1 << 16),
    "autobeat.grid.steps_per_beat": (1, 1 << 16),
    "autobeat.grid.ticks_per_step": (1, 1 << 16),
    "tokenizer.ggml.bos_token_id": (0, 1 << 24),
    "tokenizer.ggml.eos_token_id": (0, 1 << 24),
    "tokenizer.ggml.padding_token_id": (0, 1 << 24),
}
_STRING_FIELDS = ("general.architecture", "general.name", "autobeat.bins")
_STRING_LIST_FIELDS = ("tokenizer.ggml.tokens", "autobeat.genres")


class GGUFFormatError(ValueError):
    """The file is not a readable GGUF file."""


@dataclass
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type: int
    offset: int

    def nbytes(self) -> int | None:
        if self.type not in _TYPE_SIZES:
            return None
        n = 1
        for d in self.shape:
            n *= d
        per, size = _TYPE_SIZES[self.type]
        return n // per * size


@dataclass
class GGUFHeader:
    version: int
    metadata: dict = field(default_factory=dict)
    tensors: list[TensorInfo] = field(default_factory=list)
    data_start: int = 0
    file_size: int = 0


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise GGUFFormatError("the file ends inside its header (truncated?)")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def scalar(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        return struct.unpack("<" + fmt, self.take(size))[0]

    def string(self) -> str:
        n = self.scalar("Q")
        if n > 1 << 24:
            raise GGUFFormatError(f"a string of {n} bytes in the header (corrupt?)")
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0):
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            if depth >= MAX_ARRAY_DEPTH:
                raise GGUFFormatError(
                    f"metadata arrays nested more than {MAX_ARRAY_DEPTH} deep (corrupt?)"
                )
            itype = self.scalar("I")
            n = self.scalar("Q")
            if n > 1 << 24:
                raise GGUFFormatError(f"an array of {n} items in the header (corrupt?)")
            return [self.value(itype, depth + 1) for _ in range(n)]
        raise GGUFFormatError(f"unknown metadata value type {vtype}")


def read_header(path: str | Path, max_header: int = 16 << 20) -> GGUFHeader:
    """Parse the header and check every field the program uses; raises GGUFFormatError
    (or OSError) with one line if it cannot."""
    path = Path(path)
    try:
        size = check_user_file(path, "model").stat().st_size
        data = _read_head(path, max_header)
    except FileError as exc:
        raise GGUFFormatError(str(exc).removeprefix(f"{path}: ")) from None
    if len(data) < 4 or data[:4] != GGUF_MAGIC:
        raise GGUFFormatError("not a GGUF file (no GGUF magic at its start)")
    r = _Reader(data)
    r.take(4)
    version = r.scalar("I")
    if version not in (2, 3):
        raise GGUFFormatError(f"GGUF version {version} is not supported (2 or 3)")
    n_tensors = r.scalar("Q")
    n_kv = r.scalar("Q")
    if n_tensors > MAX_COUNT or n_kv > MAX_COUNT:
        raise GGUFFormatError(
            f"{n_tensors} tensors and {n_kv} metadata keys: more than {MAX_COUNT} (corrupt?)"
        )
    header = GGUFHeader(version=version, file_size=size)
    for _ in range(n_kv):
        key = r.string()
        header.metadata[key] = r.value(r.scalar("I"))
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.scalar("I")
        if n_dims > MAX_DIMS:
            raise GGUFFormatError(f"tensor {name[:40]!r} has {n_dims} dimensions (at most 4)")
        shape = tuple(r.scalar("Q") for _ in range(n_dims))
        if any(d > MAX_DIM for d in shape):
            raise GGUFFormatError(f"tensor {name[:40]!r} has a dimension above {MAX_DIM}")
        header.tensors.append(TensorInfo(name, shape, r.scalar("I"), r.scalar("Q")))
    check_fields(header.metadata)
    align = header.metadata.get("general.alignment", 32)
    header.data_start = (r.pos + align - 1) // align * align
    return header


def _read_head(path: Path, n: int) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_fields(meta: dict) -> None:
    """Raise GGUFFormatError unless every field the program reads has its type and range."""
    align = meta.get("general.alignment", 32)
    if not _is_int(align) or not 1 <= align <= 1 << 16 or align & (align - 1):
        raise GGUFFormatError(
            f"general.alignment must be a power of two in 1..65536, got {align!r:.40}"
        )
    for key, (lo, hi) in _INT_FIELDS.items():
        if key in meta:
            value = meta[key]
            if not _is_int(value) or not lo <= value <= hi:
                raise GGUFFormatError(f"{key} must be an integer in {lo}..{hi}, got {value!r:.40}")
    for key in _STRING_FIELDS:
        if key in meta and not isinstance(meta[key], str):
            raise GGUFFormatError(f"{key} must be a string, got {type(meta[key]).__name__}")
    for key in _STRING_LIST_FIELDS:
        if key in meta and (not isinstance(meta[key], list)
                            or not all(isinstance(v, str) for v in meta[key])):
            raise GGUFFormatError(f"{key} must be a list of strings")


def check_complete(header: GGUFHeader) -> None:
    """Raise GGUFFormatError if the tensor data runs past the end of the file."""
    for t in header.tensors:
        n = t.nbytes()
        if n is not None and header.data_start + t.offset + n > header.file_size:
            raise GGUFFormatError(
                f"tensor {t.name} runs past the end of the file "
                f"({header.file_size} bytes): the file is truncated"
            )
