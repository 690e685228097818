"""The same beat model run by PyTorch in eager mode: the baseline of `autobeat bench generate`.

What a user would otherwise reach for: the GGUF's weights in the training
module (models/gpt.py) with a KV cache. ``TorchSession`` is a second backend
of the runner's one decode loop (``models.runner.DecodeSession``), so the
prompts, the grammar, the sampling and the seeds are the llama.cpp runner's
own, and only the forward passes differ. Imports torch: never used by the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.runner import BeatModel, ModelError


class TorchSession:
    """Forward passes in PyTorch with one KV cache per sequence (``DecodeSession``)."""

    def __init__(self, path: str | Path, n_threads: int = 2):
        import torch

        from models.export import read_gguf_weights
        from models.gpt import GPT, GPTConfig

        torch.set_num_threads(n_threads)
        state, config = read_gguf_weights(path)
        self._torch = torch
        self.gpt: GPT | None = GPT(GPTConfig(**config))
        self.gpt.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        self.gpt.eval()
        self._past: dict[int, list] = {}

    def reset(self) -> None:
        self._past = {}

    def decode(self, items: Sequence[tuple[int, Sequence[int], int]],
               all_logits: bool = False) -> list[np.ndarray]:
        torch = self._torch
        if self.gpt is None:
            raise ModelError("the PyTorch model is closed")
        if all_logits:
            raise ModelError("the PyTorch baseline gives the last logits only")
        out = []
        with torch.inference_mode():
            for seq, tokens, pos in items:
                idx = torch.tensor([list(tokens)], dtype=torch.long)
                positions = torch.arange(pos, pos + len(tokens))
                logits, self._past[seq] = self.gpt.step(idx, positions, self._past.get(seq))
                out.append(logits[0].numpy().copy())
        return out

    def close(self) -> None:
        self.gpt = None


def torch_beat_model(base: BeatModel, n_threads: int = 2) -> BeatModel:
    """``base`` (a loaded GGUF) with its forward passes in PyTorch."""
    model = BeatModel(base.path, TorchSession(base.path, n_threads), base.vocab, base.bins,
                      base.metadata)
    model.enforce_density = base.enforce_density
    return model
