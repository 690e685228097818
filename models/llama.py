"""llama.cpp through llama-cpp-python's low-level API: one model, up to 4 sequences.

The high-level ``Llama`` object holds one sequence and a text tokenizer; the
beat model needs neither. ``LlamaSession`` makes a context with ``n_seq_max``
sequences, feeds token ids with ``llama_batch`` (several sequences in one
``llama_decode``) and hands back the logits as numpy arrays. Not thread-safe:
one thread at a time (the app's worker).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_backend_lock = threading.Lock()
_backend_ready = False
_quiet_logger = None


def _init_backend() -> None:
    """Initialise llama.cpp once and silence its log (errors come back as exceptions)."""
    global _backend_ready, _quiet_logger
    import llama_cpp as L

    with _backend_lock:
        if _backend_ready:
            return

        @L.llama_log_callback
        def _quiet(level, text, user_data):  # pragma: no cover - called from C
            return None

        _quiet_logger = _quiet  # keep a reference: C holds the pointer
        L.llama_log_set(_quiet_logger, ctypes.c_void_p())
        L.llama_backend_init()
        _backend_ready = True


class LlamaError(RuntimeError):
    pass


class LlamaSession:
    """A loaded model and a context for ``n_seq`` sequences of ``n_ctx_seq`` tokens each."""

    def __init__(self, path: str | Path, n_threads: int, n_ctx_seq: int, n_seq: int = 4):
        import llama_cpp as L

        _init_backend()
        self._L = L
        self.n_seq = n_seq
        self.n_ctx_seq = n_ctx_seq
        mparams = L.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self._model = L.llama_model_load_from_file(str(path).encode(), mparams)
        if not self._model:
            raise LlamaError("llama.cpp could not load it")
        self.n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self._model))
        cparams = L.llama_context_default_params()
        cparams.n_ctx = n_ctx_seq * n_seq
        cparams.n_batch = n_ctx_seq * n_seq
        cparams.n_ubatch = n_ctx_seq * n_seq
        cparams.n_seq_max = n_seq
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        cparams.type_k = 0  # GGML_TYPE_F32: exact logits (the model is tiny, the cache too)
        cparams.type_v = 0
        cparams.no_perf = True
        self._ctx = L.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            L.llama_model_free(self._model)
            self._model = None
            raise LlamaError("llama.cpp could not make a context for it")
        self._mem = L.llama_get_memory(self._ctx)
        self._capacity = n_ctx_seq * n_seq
        self._batch = L.llama_batch_init(self._capacity, 0, n_seq)
        try:  # broken weights (NaN, inf) show at once: refuse the model at load
            self.decode([(0, [0], 0)])
        except LlamaError:
            self.close()
            raise
        self.reset()

    def reset(self) -> None:
        """Forget every sequence (clear the KV cache)."""
        self._L.llama_memory_clear(self._mem, True)

    def decode(
        self, items: Sequence[tuple[int, Sequence[int], int]], all_logits: bool = False
    ) -> list[np.ndarray]:
        """Feed tokens of several sequences in one ``llama_decode``.

        items: (seq_id, token ids, position of the first). Returns, per item, the
        logits of its last token (V,), or with ``all_logits`` of every token (n, V).
        """
        L = self._L
        b = self._batch
        n = 0
        marks = []
        for seq, tokens, pos in items:
            first = n
            for k, tok in enumerate(tokens):
                if n >= self._capacity:
                    raise LlamaError(f"batch of more than {self._capacity} tokens")
                b.token[n] = int(tok)
                b.pos[n] = pos + k
                b.n_seq_id[n] = 1
                b.seq_id[n][0] = seq
                b.logits[n] = 1 if (all_logits or k == len(tokens) - 1) else 0
                n += 1
            marks.append((first, n))
        b.n_tokens = n
        rc = L.llama_decode(self._ctx, b)
        if rc != 0:
            raise LlamaError(f"llama_decode failed with code {rc}")
        out = []
        V = self.n_vocab
        if all_logits:
            everything = np.ctypeslib.as_array(L.llama_get_logits(self._ctx), shape=(n, V))
        for first, last in marks:
            if all_logits:  # every token has an output: rows in batch order
                out.append(everything[first:last].copy())
            else:
                ptr = L.llama_get_logits_ith(self._ctx, last - 1)
                out.append(np.ctypeslib.as_array(ptr, shape=(V,)).copy())
            if not np.isfinite(out[-1]).all():
                raise LlamaError(
                    "the model gives non-finite scores (NaN or infinite): its weights are broken"
                )
        return out

    def close(self) -> None:
        L = self._L
        if getattr(self, "_batch", None) is not None:
            L.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            L.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            L.llama_model_free(self._model)
            self._model = None

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
