"""Hostile model files and checkpoints: one line each, no traceback, no code run."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.ggufmeta import GGUFFormatError, read_header

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "autobeat.gguf"


def _s(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _gguf(kvs: list[tuple[str, int, bytes]]) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs))
    for key, vtype, value in kvs:
        out += _s(key) + struct.pack("<I", vtype) + value
    return out


CASES = {
    "alignment 0": (_gguf([("general.alignment", 4, struct.pack("<I", 0))]),
                    "general.alignment must be a power of two in 1..65536, got 0"),
    "alignment 3": (_gguf([("general.alignment", 4, struct.pack("<I", 3))]),
                    "general.alignment must be a power of two"),
    "context length text": (_gguf([("gpt2.context_length", 8, _s("abc"))]),
                            "gpt2.context_length must be an integer in 1..65536, got 'abc'"),
    "context length float": (_gguf([("gpt2.context_length", 6, struct.pack("<f", 1.5))]),
                             "gpt2.context_length must be an integer"),
    "context length huge": (_gguf([("gpt2.context_length", 10, struct.pack("<Q", 2**40))]),
                            "gpt2.context_length must be an integer in 1..65536"),
    "4000-deep arrays": (_gguf([("x", 9, struct.pack("<IQ", 9, 1) * 4000
                                 + struct.pack("<IQ", 4, 0))]),
                         "metadata arrays nested more than 4 deep"),
    "tokens not strings": (_gguf([("tokenizer.ggml.tokens", 9,
                                   struct.pack("<IQ", 4, 2) + struct.pack("<II", 1, 2))]),
                           "tokenizer.ggml.tokens must be a list of strings"),
    "too many keys": (b"GGUF" + struct.pack("<IQQ", 3, 0, 2**40), "metadata keys"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_headers_are_one_line(tmp_path, case):
    data, message = CASES[case]
    path = tmp_path / "m.gguf"
    path.write_bytes(data)
    with pytest.raises(GGUFFormatError) as info:
        read_header(path)
    assert message in str(info.value)
    result = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "generate", "--model",
                             str(path)], capture_output=True, text=True, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, lines
    assert lines[0] == f"autobeat generate: {path}: {info.value}"


def test_a_model_with_nan_weights_is_refused_in_one_line(tmp_path):
    pytest.importorskip("gguf")
    pytest.importorskip("llama_cpp")
    from codec.features import Bins
    from codec.vocab import Vocabulary
    from models.export import export_gguf, read_gguf_weights

    state, config = read_gguf_weights(SHIPPED)
    meta = read_header(SHIPPED).metadata
    vocab = Vocabulary.from_tokens(meta["tokenizer.ggml.tokens"])
    bins = Bins.from_json(meta["autobeat.bins"])
    nan = tmp_path / "nan.gguf"
    export_gguf(nan, {k: np.full_like(v, np.nan) for k, v in state.items()}, config, vocab,
                bins, name="nan")
    result = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "generate", "--model",
                             str(nan), "--seed", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"autobeat generate: {nan}: the model gives non-finite scores (NaN or infinite): "
        "its weights are broken"]
    assert result.stdout == ""


def test_a_planted_checkpoint_runs_no_code(tmp_path):
    torch = pytest.importorskip("torch")
    from models.train import load_checkpoint
    from patterns.files import FileError

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "ck.pt"
    torch.save({"config": Evil()}, path)
    with pytest.raises(FileError, match="not a checkpoint this program can resume .*--fresh"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_checkpoint_with_optimizer_state_resumes_weights_only(tmp_path):
    torch = pytest.importorskip("torch")
    from models.gpt import GPT, GPTConfig
    from models.train import load_checkpoint
    from patterns.files import atomic_file

    config = GPTConfig(vocab_size=40, block_size=16, n_layer=1, n_head=2, n_embd=16)
    model = GPT(config)
    optimizer = model.configure_optimizer(1e-3, 0.1)
    x = torch.randint(0, 40, (2, 8))
    _, loss = model(x, x, torch.ones_like(x, dtype=torch.float32))
    loss.backward()
    optimizer.step()
    path = tmp_path / "ck.pt"
    with atomic_file(path) as f:
        torch.save({"config": config.to_dict(), "vocab": ["a"], "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "step": 3, "best_val": 1.5,
                    "best_state": None, "history": [{"step": 3}], "options": {"out": "x"}}, f)
    ck = load_checkpoint(path)
    fresh = GPT(config).configure_optimizer(1e-3, 0.1)
    fresh.load_state_dict(ck["optimizer"])
    assert ck["step"] == 3 and ck["best_val"] == 1.5
