"""The same beat model run by PyTorch in eager mode: the baseline of `autobeat bench generate`.

What a user would otherwise reach for: the GGUF's weights in the training
module (models/gpt.py), a KV cache, the four groups of a beat in one batch, and
the very same prompts, grammar and sampling as the llama.cpp runner (it only
replaces ``BeatModel._run``). Imports torch: never used by the app.
"""

from __future__ import annotations

from models.runner import BeatModel, ModelError, sample_id


class TorchBeatModel(BeatModel):
    """A BeatModel whose forward passes run in PyTorch (eager, KV cache, batched)."""

    def __init__(self, base: BeatModel, n_threads: int = 2):
        import torch

        from models.export import read_gguf_weights
        from models.gpt import GPT, GPTConfig

        super().__init__(base.path, None, base.vocab, base.bins, base.metadata)  # type: ignore[arg-type]
        self.enforce_density = base.enforce_density
        torch.set_num_threads(n_threads)
        state, config = read_gguf_weights(base.path)
        self._torch = torch
        self.gpt = GPT(GPTConfig(**config))
        self.gpt.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        self.gpt.eval()
        self._pad = self.vocab.id("<pad>")

    def close(self) -> None:
        self.gpt = None

    def _run(self, jobs, temperature: float, top_p: float) -> None:
        torch = self._torch
        if self.gpt is None:
            raise ModelError(f"{self.path}: the model is closed")
        lengths = {len(job.prompt) for job in jobs}
        if len(lengths) != 1:
            raise ModelError("the torch baseline batches prompts of one length only")
        p = lengths.pop()
        with torch.inference_mode():
            idx = torch.tensor([job.prompt for job in jobs], dtype=torch.long)
            logits, past = self.gpt.step(idx, torch.arange(p))
            current = logits.numpy()
            active = set(range(len(jobs)))
            written = 0
            while active:
                nxt = []
                for i, job in enumerate(jobs):
                    if i in active:
                        tok = sample_id(current[i], job.grammar.allowed_ids(), job.rng,
                                        temperature, top_p)
                        job.grammar.advance(tok)
                        job.written.append(tok)
                        written += 1
                        if job.grammar.done:
                            active.discard(i)
                        nxt.append(tok)
                    else:
                        nxt.append(self._pad)  # a finished row rides along, ignored
                if not active:
                    break
                logits, past = self.gpt.step(torch.tensor(nxt, dtype=torch.long)[:, None],
                                             torch.tensor([p]), past)
                current = logits.numpy()
                p += 1
        self.last_tokens = written
        self.last_written = [list(job.written) for job in jobs]
