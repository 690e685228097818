"""The beat model at run time: a GGUF file run by llama.cpp, no torch.

``BeatModel.load()`` opens the shipped model (or another GGUF written by
``autobeat train``), checks it against the codec, and generates groups:

- ``generate_group``: one group, in the context of the pattern's other groups;
- ``generate_all``: the four groups of a new beat, decoded together in one batch;
- ``mutate``: keeps a share of a group's events and lets the model rewrite the rest.

Every step samples under ``codec.grammar`` (only tokens that keep the sequence
well formed, only the group's tracks, the asked density's range of event
counts), so every output decodes. The same seed and parameters give the same
pattern. One thread at a time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from codec.context import MAX_TOKENS, prompt_tokens
from codec.errors import CodecError
from codec.features import Bins
from codec.grammar import GroupGrammar, TokenIds
from codec.vocab import Vocabulary
from models.ggufmeta import GGUFFormatError, check_complete, read_header
from models.limits import DEFAULT_TEMPERATURE, MAX_SEED, MAX_TEMPERATURE, MIN_TEMPERATURE
from models.llama import LlamaError, LlamaSession
from patterns.grid import GROUPS, STEPS, STEPS_PER_BEAT, TICKS_PER_STEP
from patterns.pattern import LEVELS, Event, GroupParams, Pattern, PatternError

DEFAULT_MODEL_PATH = Path(__file__).with_name("autobeat.gguf")
# the ranges of seed and temperature live in models/limits.py (the app reads them too)


class ModelError(Exception):
    """A model file that cannot be used, or a request it cannot serve: one clear line."""


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def density_range(bins: Bins, group: int, level: str) -> tuple[int, int | None]:
    """(min, max) events of a density level for a group (max None: no limit)."""
    low_edge, high_edge = bins.density[group - 1]
    if level == "low":
        return 0, int(np.floor(low_edge))
    if level == "mid":
        lo = int(np.floor(low_edge)) + 1
        return lo, max(lo, int(np.floor(high_edge)))
    return int(np.floor(high_edge)) + 1, None


def sample_id(
    logits: np.ndarray, allowed: np.ndarray, rng: np.random.Generator, temperature: float,
    top_p: float,
) -> int:
    """Sample one id among ``allowed`` with temperature and nucleus (top-p) sampling."""
    if len(allowed) == 1:
        return int(allowed[0])
    z = logits[allowed].astype(np.float64) / temperature
    z -= z.max()
    p = np.exp(z)
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    keep = np.cumsum(ps) - ps < top_p  # the smallest set whose mass reaches top_p
    ps = ps[keep] / ps[keep].sum()
    k = int(np.searchsorted(np.cumsum(ps), rng.random() * (1 - 1e-12), side="right"))
    return int(allowed[order[min(k, len(ps) - 1)]])


@dataclass
class _Job:
    """One sequence being decoded: its prompt, its grammar and its random stream."""

    prompt: list[int]
    grammar: GroupGrammar
    rng: np.random.Generator
    written: list[int] = field(default_factory=list)


class BeatModel:
    """A loaded beat model (see the module docstring)."""

    def __init__(self, path: Path, session: LlamaSession, vocab: Vocabulary, bins: Bins,
                 metadata: dict):
        self.path = path
        self.name = path.name
        self.vocab = vocab
        self.bins = bins
        self.genres: tuple[str, ...] = vocab.genres
        self.metadata = metadata
        self.block_size = int(metadata.get("gpt2.context_length", MAX_TOKENS))
        self.enforce_density = True  # the grammar keeps the event count in the asked bin
        self._session = session
        self._ids = TokenIds(vocab)
        self.last_tokens = 0  # tokens written by the last call (for the bench)
        self.last_written: list[list[int]] = []  # per sequence, the ids the last call wrote

    # --- loading --------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None, n_threads: int | None = None) -> BeatModel:
        path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        try:
            header = read_header(path)
            check_complete(header)
        except (GGUFFormatError, OSError) as exc:
            raise ModelError(f"{path}: {exc}") from None
        meta = header.metadata
        arch = meta.get("general.architecture")
        if arch != "gpt2":
            raise ModelError(f"{path}: architecture is {arch!r}, expected 'gpt2'")
        tokens = meta.get("tokenizer.ggml.tokens")
        if not isinstance(tokens, list) or not tokens:
            raise ModelError(f"{path}: no token list in its metadata (not an AutoBeat model)")
        try:
            vocab = Vocabulary.from_tokens(tokens)
        except CodecError as exc:
            raise ModelError(f"{path}: vocabulary does not match the codec: {exc}") from None
        try:
            bins = Bins.from_json(meta["autobeat.bins"])
        except KeyError:
            raise ModelError(f"{path}: no autobeat.bins in its metadata") from None
        except CodecError as exc:
            raise ModelError(f"{path}: {exc}") from None
        grid = (meta.get("autobeat.grid.steps"), meta.get("autobeat.grid.steps_per_beat"),
                meta.get("autobeat.grid.ticks_per_step"))
        if grid != (STEPS, STEPS_PER_BEAT, TICKS_PER_STEP):
            raise ModelError(
                f"{path}: grid {grid} does not match the codec's "
                f"({STEPS}, {STEPS_PER_BEAT}, {TICKS_PER_STEP}) (steps, per beat, ticks a step)"
            )
        embd = header.tensors and {t.name: t.shape for t in header.tensors}.get("token_embd.weight")
        if not embd or embd[-1] != len(vocab):
            raise ModelError(f"{path}: token embedding does not match its {len(vocab)} tokens")
        threads = n_threads or default_threads()
        try:
            session = LlamaSession(path, threads, int(meta.get("gpt2.context_length", MAX_TOKENS)))
        except LlamaError as exc:
            raise ModelError(f"{path}: {exc}") from None
        return cls(path, session, vocab, bins, meta)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> BeatModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- checking requests ----------------------------------------------------------

    def check_params(self, params: GroupParams) -> None:
        if params.genre not in self.genres:
            raise ModelError(
                f"unknown genre {params.genre!r}; {self.name} knows: {', '.join(self.genres)}"
            )

    @staticmethod
    def _check_sampling(seed: int, temperature: float, top_p: float) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ModelError(f"seed must be in 0..{MAX_SEED}, got {seed!r}")
        if not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
            raise ModelError(
                f"temperature must be in {MIN_TEMPERATURE}..{MAX_TEMPERATURE}, got {temperature}"
            )
        if not 0.0 < top_p <= 1.0:
            raise ModelError(f"top_p must be in 0..1 (above 0), got {top_p}")

    @staticmethod
    def _check_group(group: int) -> None:
        if isinstance(group, bool) or not isinstance(group, int) or not 1 <= group <= len(GROUPS):
            raise ModelError(f"group must be in 1..{len(GROUPS)}, got {group!r}")

    # --- building jobs --------------------------------------------------------------

    def _job(self, pattern: Pattern, group: int, params: GroupParams, rng: np.random.Generator,
             include: Sequence[int] | None, keep: Sequence[Event] = (),
             count: tuple[int, int | None] | None = None) -> _Job:
        prompt = self.vocab.ids(prompt_tokens(pattern, group, params, include))
        if count is None:
            count = density_range(self.bins, group, params.density) if self.enforce_density \
                else (0, None)
        grammar = GroupGrammar(self._ids, group, min_events=count[0], max_events=count[1],
                               keep=keep, budget=self.block_size - len(prompt))
        return _Job(prompt, grammar, rng)

    def _run(self, jobs: list[_Job], temperature: float, top_p: float) -> None:
        """Decode every job to its end, all sequences in each llama_decode."""
        s = self._session
        if s is None:
            raise ModelError(f"{self.path}: the model is closed")
        s.reset()
        logits = s.decode([(i, job.prompt, 0) for i, job in enumerate(jobs)])
        current = dict(enumerate(logits))
        pos = {i: len(job.prompt) for i, job in enumerate(jobs)}
        active = list(range(len(jobs)))
        written = 0
        while active:
            feed = []
            for i in active:
                job = jobs[i]
                tok = sample_id(current[i], job.grammar.allowed_ids(), job.rng, temperature, top_p)
                job.grammar.advance(tok)
                job.written.append(tok)
                written += 1
                if not job.grammar.done:
                    feed.append((i, [tok], pos[i]))
                    pos[i] += 1
            active = [i for i, _, _ in feed]
            if feed:
                for (i, _, _), out in zip(feed, s.decode(feed), strict=True):
                    current[i] = out
        self.last_tokens = written
        self.last_written = [list(job.written) for job in jobs]

    def _stamp(self, params: GroupParams, seed: int) -> GroupParams:
        return replace(params, seed=seed, model=self.name)

    # --- the API --------------------------------------------------------------------

    def generate_group(self, pattern: Pattern, group: int, params: GroupParams, seed: int,
                       temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """The pattern with ``group`` written anew, fitting the other groups."""
        self._check_group(group)
        self.check_params(params)
        self._check_sampling(seed, temperature, top_p)
        job = self._job(pattern, group, params, np.random.default_rng([seed, group]), None)
        self._run([job], temperature, top_p)
        return pattern.with_group(group, job.grammar.events, self._stamp(params, seed))

    def generate_all(self, pattern: Pattern, params: Sequence[GroupParams], seed: int,
                     temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """A new beat: all four groups decoded together (one batch, four sequences)."""
        params = tuple(params)
        if len(params) != len(GROUPS):
            raise ModelError(f"params must have {len(GROUPS)} groups, got {len(params)}")
        for p in params:
            self.check_params(p)
        self._check_sampling(seed, temperature, top_p)
        empty = pattern.with_events(())
        jobs = [self._job(empty, g.number, params[g.number - 1],
                          np.random.default_rng([seed, g.number]), ()) for g in GROUPS]
        self._run(jobs, temperature, top_p)
        events = [e for job in jobs for e in job.grammar.events]
        stamped = tuple(self._stamp(p, seed) for p in params)
        return replace(pattern.with_events(events), params=stamped)

    def mutate(self, pattern: Pattern, group: int, amount: float, seed: int,
               temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """Keep round((1 - amount) x n) of the group's n events; the model rewrites the rest.

        The group keeps its event count (an empty group is generated anew from its
        parameters); the kept events stay exactly as they were.
        """
        self._check_group(group)
        if not 0.0 <= amount <= 1.0:
            raise ModelError(f"amount must be in 0..1, got {amount}")
        self._check_sampling(seed, temperature, top_p)
        params = pattern.group_params(group)
        self.check_params(params)
        events = pattern.group_events(group)
        rng = np.random.default_rng([seed, group, 1])
        n_keep = int(round((1.0 - amount) * len(events)))
        picked = sorted(rng.choice(len(events), size=n_keep, replace=False)) if events else []
        keep = [events[i] for i in picked]
        count = (len(events), len(events)) if events else None
        job = self._job(pattern, group, params, rng, None, keep=keep, count=count)
        self._run([job], temperature, top_p)
        return pattern.with_group(group, job.grammar.events, self._stamp(params, seed))

    # --- scoring (eval) -------------------------------------------------------------

    def token_logits(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """The logits at every position of up to 4 sequences (n_i, V), one batch."""
        s = self._session
        if s is None:
            raise ModelError(f"{self.path}: the model is closed")
        s.reset()
        return s.decode([(i, list(seq), 0) for i, seq in enumerate(sequences)], all_logits=True)


def check_level(name: str, value: str) -> str:
    if value not in LEVELS:
        raise ModelError(f"{name} must be one of {', '.join(LEVELS)}, got {value!r}")
    return value


__all__ = ["DEFAULT_MODEL_PATH", "BeatModel", "ModelError", "PatternError"]
