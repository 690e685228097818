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

GGUF_MAGIC = b"GGUF"
_SCALARS = {  # GGUF value type -> struct format
    0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d",
}
STRING, ARRAY = 8, 9
_TYPE_SIZES = {0: (1, 4), 1: (1, 2)}  # ggml type -> (block elements, block bytes): F32, F16


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

    def value(self, vtype: int):
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            itype = self.scalar("I")
            n = self.scalar("Q")
            if n > 1 << 24:
                raise GGUFFormatError(f"an array of {n} items in the header (corrupt?)")
            return [self.value(itype) for _ in range(n)]
        raise GGUFFormatError(f"unknown metadata value type {vtype}")


def read_header(path: str | Path, max_header: int = 16 << 20) -> GGUFHeader:
    """Parse the header; raises GGUFFormatError (or OSError) if it cannot."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        data = f.read(min(size, max_header))
    if len(data) < 4 or data[:4] != GGUF_MAGIC:
        raise GGUFFormatError("not a GGUF file (no GGUF magic at its start)")
    r = _Reader(data)
    r.take(4)
    version = r.scalar("I")
    if version not in (2, 3):
        raise GGUFFormatError(f"GGUF version {version} is not supported (2 or 3)")
    n_tensors = r.scalar("Q")
    n_kv = r.scalar("Q")
    header = GGUFHeader(version=version, file_size=size)
    for _ in range(n_kv):
        key = r.string()
        header.metadata[key] = r.value(r.scalar("I"))
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.scalar("I")
        shape = tuple(r.scalar("Q") for _ in range(n_dims))
        header.tensors.append(TensorInfo(name, shape, r.scalar("I"), r.scalar("Q")))
    align = int(header.metadata.get("general.alignment", 32))
    header.data_start = (r.pos + align - 1) // align * align
    return header


def check_complete(header: GGUFHeader) -> None:
    """Raise GGUFFormatError if the tensor data runs past the end of the file."""
    for t in header.tensors:
        n = t.nbytes()
        if n is not None and header.data_start + t.offset + n > header.file_size:
            raise GGUFFormatError(
                f"tensor {t.name} runs past the end of the file "
                f"({header.file_size} bytes): the file is truncated"
            )
