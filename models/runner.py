"""The beat model at run time: a GGUF file run by llama.cpp, no torch.

``BeatModel.load()`` opens the shipped model (or another GGUF written by
``autobeat train``), checks it against the codec, and generates groups:

- ``generate_group``: one group, in the context of the pattern's other groups;
- ``generate_all``: the four groups of a new beat, one performance: drums,
  hats, toms, cymbals, each written in the context of the groups before it;
- ``mutate``: keeps a share of a group's events and lets the model rewrite the
  rest; the hits that carry the groove (on the beat, loud) are the likeliest kept.

Auto levels: a density or intensity the user has not pinned (``GroupParams.auto``)
is drawn from the model's level table (``codec.levels``: how real drummers play
the genre and type, fitting the groups the pattern has), and so is the loop
form: in a "repeat" beat the drums' bar 2 echoes bar 1 (``Echo``).

Feel: where a hit goes is sampled at the asked temperature; its offset and
velocity at ``FEEL_TEMPERATURE`` (or above), the model's own spread, so the
timing and dynamics stay as loose as a drummer's.

Every step samples under ``codec.grammar`` (only tokens that keep the sequence
well formed, only the group's tracks, the asked density's range of event
counts), so every output decodes. The same seed and parameters give the same
pattern. One thread at a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from codec.context import MAX_TOKENS, prompt_tokens
from codec.errors import CodecError
from codec.features import Bins
from codec.grammar import (
    EXPECT_OFFSET,
    EXPECT_TRACK,
    EXPECT_VELOCITY,
    Echo,
    GroupGrammar,
    TokenIds,
)
from codec.levels import GroupLevel, LevelTable, group_level
from codec.tokens import event_tokens
from codec.vocab import Vocabulary
from models.ggufmeta import GGUFFormatError, check_complete, read_header
from models.limits import DEFAULT_TEMPERATURE, MAX_SEED, MAX_TEMPERATURE, MIN_TEMPERATURE
from models.llama import LlamaError, LlamaSession
from patterns.grid import GROUPS, STEPS, STEPS_PER_BEAT, TICKS_PER_STEP
from patterns.pattern import Event, GroupParams, Pattern, PatternError

DEFAULT_MODEL_PATH = Path(__file__).with_name("autobeat.gguf")
# the ranges of seed and temperature live in models/limits.py (the app reads them too)
# offsets and velocities sample at this temperature (or the asked one, if higher): at
# the placement's temperature the timing and the dynamics come out tighter and louder
# than a drummer's, the hats' timing above all
FEEL_TEMPERATURE = 1.1
FEEL_STATES = (EXPECT_OFFSET, EXPECT_VELOCITY)  # the tokens sampled at the feel temperature
# ... and which cymbal: sharpened, the ride crowds the crash out (half the real crashes)
FEEL_TRACK_GROUPS = (4,)
DECODE_ORDER = (1, 2, 3, 4)  # a new beat: drums, hats, toms, cymbals, each hearing those before
ECHO_GROUPS = (1,)  # in a "repeat" beat the drums' bar 2 echoes bar 1 (the hats follow them)
FILL_ORDER = (1, 3, 2, 4)  # a fill: drums and toms carry it, then the hats and cymbals answer
FILL_CANDIDATES = 4  # fills written side by side (one batch); the one that builds to the 1 wins
FILL_MIN_HITS = 3  # a fill has at least this many drum (or tom) hits
FILL_MAX_HITS = 24  # ... and at most this many a group
DEFAULT_MUTATE_AMOUNT = 0.25  # `r` in the app: a quarter of the group's hits rewritten
MUTATE_ANCHOR = 4.0  # how much likelier a hit on the beat (and a loud one) is kept by mutate
# one right hand: where the hats (closed, open) play a pattern, a new ride drops its hits
# on their steps, and new hats theirs on a ride pattern's (real beats never double them;
# new beats did, 7 %). Dropped after the model wrote the group: blocked while it writes,
# the model put a crash where it wanted the ride (1.4 crashes a beat)
HAND_TRACKS = ((5, 7), (12,))
HAND_PATTERN = 8  # hits that make a pattern


class DecodeSession(Protocol):
    """A backend of the decode loop: llama.cpp (``LlamaSession``) or PyTorch (the bench's)."""

    def reset(self) -> None:
        """Forget every sequence."""

    def decode(self, items: Sequence[tuple[int, Sequence[int], int]],
               all_logits: bool = False) -> list[np.ndarray]:
        """Feed (sequence, token ids, first position) items; the logits of each item's last
        token (V,), or with ``all_logits`` of every token (n, V)."""

    def close(self) -> None: ...


class BeatWriter(Protocol):
    """What the app, the command line and the drummer ask of a beat model (``BeatModel``,
    whichever backend runs it; a test's fake)."""

    name: str
    genres: tuple[str, ...]

    def generate_group(self, pattern: Pattern, group: int, params: GroupParams, seed: int,
                       temperature: float = ..., top_p: float = ...) -> Pattern: ...

    def generate_all(self, pattern: Pattern, params: Sequence[GroupParams], seed: int,
                     temperature: float = ..., top_p: float = ...) -> Pattern: ...

    def mutate(self, pattern: Pattern, group: int, amount: float, seed: int,
               temperature: float = ..., top_p: float = ...) -> Pattern: ...

    def fill(self, groove: Pattern, bar: int, seed: int, temperature: float = ...,
             top_p: float = ...) -> Pattern: ...

    def close(self) -> None: ...


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


@dataclass
class DecodeProfile:
    """Where a generation's time goes (a measurement hook: ``BeatModel.profile``)."""

    decode_s: float = 0.0  # inside llama_decode (or the PyTorch forward)
    sample_s: float = 0.0  # temperature, nucleus, drawing
    grammar_s: float = 0.0  # the allowed ids and the grammar's state
    total_s: float = 0.0  # whole calls of the API
    calls: int = 0  # decode calls
    tokens: int = 0  # tokens written
    written: list[list[int]] = field(default_factory=list)  # the ids of each sequence written

    def split(self) -> dict[str, float]:
        other = max(0.0, self.total_s - self.decode_s - self.sample_s - self.grammar_s)
        return {"decode": self.decode_s, "sampling": self.sample_s, "grammar": self.grammar_s,
                "other": other}


@dataclass(frozen=True)
class _Plan:
    """What a generation asks of each group once auto levels are drawn."""

    params: dict[int, GroupParams]  # the header (drawn or pinned levels)
    empty: frozenset[int]  # groups drawn empty
    filled: frozenset[int]  # groups drawn with events (a "low" level alone allows none)
    repeat: bool  # loop form: bar 2 echoes bar 1


class BeatModel:
    """A loaded beat model (see the module docstring)."""

    def __init__(self, path: Path, session: DecodeSession, vocab: Vocabulary, bins: Bins,
                 metadata: dict):
        self.path = path
        self.name = path.name
        self.vocab = vocab
        self.bins = bins
        self.genres: tuple[str, ...] = vocab.genres
        self.metadata = metadata
        self.block_size = int(metadata.get("gpt2.context_length", MAX_TOKENS))
        self.enforce_density = True  # the grammar keeps the event count in the asked bin
        self.levels: LevelTable | None = None  # auto levels (absent in models before them)
        self.levels_problem = ""  # why auto is not available, in one line
        levels = metadata.get("autobeat.levels")
        if isinstance(levels, str):
            try:
                self.levels = LevelTable.from_json(levels)
            except CodecError as exc:
                self.levels_problem = f"{path.name}: {exc}"
        else:
            self.levels_problem = (f"{path.name} has no level table (autobeat.levels; a model "
                                   f"made before auto levels): pin density and intensity")
        self.feel_temperature = FEEL_TEMPERATURE
        # a measurement hook: set it to a DecodeProfile to learn where the time goes and
        # which tokens were written (bench, eval); None costs nothing
        self.profile: DecodeProfile | None = None
        self._session = session
        self._ids = TokenIds(vocab)

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
             count: tuple[int, int | None] | None = None, echo: bool = False,
             prefix: Sequence[Event] = ()) -> _Job:
        """One sequence to decode; ``prefix``: the group's first events, given (their tokens
        end the prompt, and the model goes on after them)."""
        head = prompt_tokens(pattern, group, params, include)
        head += [t for e in sorted(prefix, key=lambda e: (e.step, e.track))
                 for t in event_tokens(e)]
        prompt = self.vocab.ids(head)
        if count is None:
            count = density_range(self.bins, group, params.density) if self.enforce_density \
                else (0, None)
        grammar = GroupGrammar(self._ids, group, min_events=count[0], max_events=count[1],
                               keep=keep, budget=self.block_size - len(prompt),
                               echo=Echo(rng) if echo and group in ECHO_GROUPS else None,
                               prefix=prefix)
        return _Job(prompt, grammar, rng)

    def _plan(self, pattern: Pattern, asked: Mapping[int, GroupParams], seed: int,
              whole: bool) -> _Plan:
        """Draw the auto levels and the loop form of the asked groups (see the docstring).

        whole: a new beat (a group may be drawn empty); otherwise the user asked for
        these groups, and they get events. Pinned levels stay exactly as asked.
        """
        auto = any(p.auto for p in asked.values())
        if self.levels is None:
            if auto:
                raise ModelError(f"auto levels: {self.levels_problem}")
            return _Plan(dict(asked), frozenset(), frozenset(), False)
        evidence = {g.number: group_level(pattern, g.number, self.bins) for g in GROUPS
                    if g.number not in asked and pattern.group_events(g.number)}
        for g, p in asked.items():
            if not p.auto:
                evidence[g] = GroupLevel(p.density, p.intensity)
        first = asked[min(asked)]
        rng = np.random.default_rng([seed, 7])
        try:
            profile = self.levels.draw(first.genre, first.type, rng, evidence,
                                       exclude_empty=() if whole else tuple(asked))
        except CodecError as exc:
            raise ModelError(f"auto levels: {exc}") from None
        params, empty, filled = {}, set(), set()
        for g, p in asked.items():
            drawn = profile.groups[g - 1]
            levels = {name: getattr(drawn, name) for name in p.auto}
            params[g] = replace(p, **levels)
            if "density" in p.auto:
                (empty if drawn.empty else filled).add(g)
        return _Plan(params, frozenset(empty), frozenset(filled), profile.repeat)

    def _planned_job(self, pattern: Pattern, group: int, plan: _Plan, seed: int) -> _Job:
        params = plan.params[group]
        count = None
        if group in plan.filled and self.enforce_density:
            low, high = density_range(self.bins, group, params.density)
            count = (max(1, low), high)
        return self._job(pattern, group, params, np.random.default_rng([seed, group]), None,
                         count=count, echo=plan.repeat)

    def _run(self, jobs: list[_Job], temperature: float, top_p: float) -> None:
        """Decode every job to its end, all sequences in each llama_decode."""
        s = self._session
        if s is None:
            raise ModelError(f"{self.path}: the model is closed")
        prof = self.profile
        clock = time.perf_counter
        feel = max(temperature, self.feel_temperature)
        t0 = clock()
        s.reset()
        logits = s.decode([(i, job.prompt, 0) for i, job in enumerate(jobs)])
        t_decode = clock() - t0
        t_sample = t_grammar = 0.0
        calls = 1
        current = dict(enumerate(logits))
        pos = {i: len(job.prompt) for i, job in enumerate(jobs)}
        active = list(range(len(jobs)))
        written = 0
        while active:
            feed = []
            for i in active:
                job, grammar = jobs[i], jobs[i].grammar
                t1 = clock()
                allowed = grammar.allowed_ids()
                loose = grammar.state in FEEL_STATES or (
                    grammar.state == EXPECT_TRACK and grammar.group in FEEL_TRACK_GROUPS)
                t2 = clock()
                temp, nucleus = (feel, 1.0) if loose else (temperature, top_p)
                tok = sample_id(current[i], allowed, job.rng, temp, nucleus)
                t3 = clock()
                if grammar.wants_echo(tok):  # leaving bar 1 of a "repeat" beat
                    grammar.start_echo()
                    tok = sample_id(current[i], grammar.allowed_ids(), job.rng, temp, nucleus)
                grammar.advance(tok)
                t4 = clock()
                t_grammar += (t2 - t1) + (t4 - t3)
                t_sample += t3 - t2
                job.written.append(tok)
                written += 1
                if not grammar.done:
                    feed.append((i, [tok], pos[i]))
                    pos[i] += 1
            active = [i for i, _, _ in feed]
            if feed:
                t1 = clock()
                outs = s.decode(feed)
                t_decode += clock() - t1
                calls += 1
                for (i, _, _), out in zip(feed, outs, strict=True):
                    current[i] = out
        if prof is not None:
            prof.written.extend(list(job.written) for job in jobs)
            prof.decode_s += t_decode
            prof.sample_s += t_sample
            prof.grammar_s += t_grammar
            prof.calls += calls
            prof.tokens += written

    def _stamp(self, params: GroupParams, seed: int) -> GroupParams:
        return replace(params, seed=seed, model=self.name)

    # --- the API --------------------------------------------------------------------

    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            if self.profile is not None:
                self.profile.total_s += time.perf_counter() - t0

    def generate_group(self, pattern: Pattern, group: int, params: GroupParams, seed: int,
                       temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """The pattern with ``group`` written anew, fitting the other groups."""
        self._check_group(group)
        self.check_params(params)
        self._check_sampling(seed, temperature, top_p)
        return self._timed(self._generate_group, pattern, group, params, seed, temperature, top_p)

    def _generate_group(self, pattern, group, params, seed, temperature, top_p) -> Pattern:
        plan = self._plan(pattern, {group: params}, seed, whole=False)
        job = self._planned_job(pattern, group, plan, seed)
        self._run([job], temperature, top_p)
        return pattern.with_group(group, _one_hand(pattern, group, job.grammar.events),
                                  self._stamp(plan.params[group], seed))

    def generate_all(self, pattern: Pattern, params: Sequence[GroupParams], seed: int,
                     temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """A new beat: the four groups in DECODE_ORDER, each in the context of those before."""
        params = tuple(params)
        if len(params) != len(GROUPS):
            raise ModelError(f"params must have {len(GROUPS)} groups, got {len(params)}")
        for p in params:
            self.check_params(p)
        self._check_sampling(seed, temperature, top_p)
        return self._timed(self._generate_all, pattern, params, seed, temperature, top_p)

    def _generate_all(self, pattern, params, seed, temperature, top_p) -> Pattern:
        beat = pattern.with_events(())
        plan = self._plan(beat, {g.number: params[g.number - 1] for g in GROUPS}, seed,
                          whole=True)
        for g in DECODE_ORDER:
            if g in plan.empty:
                continue
            job = self._planned_job(beat, g, plan, seed)
            self._run([job], temperature, top_p)
            beat = beat.with_group(g, _one_hand(beat, g, job.grammar.events))
        stamped = tuple(self._stamp(plan.params[g.number], seed) for g in GROUPS)
        return replace(beat, params=stamped)

    def mutate(self, pattern: Pattern, group: int, amount: float, seed: int,
               temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """Rewrite round(amount x n) of the group's n events; the model writes them anew.

        The group keeps its event count (an empty group is generated anew from its
        parameters); the kept events stay exactly as they were. Which events are
        rewritten is drawn at random, the hits that carry the groove (on the beat,
        loud) the least often, so mutate after mutate varies a groove and keeps it.
        """
        self._check_group(group)
        if not 0.0 <= amount <= 1.0:
            raise ModelError(f"amount must be in 0..1, got {amount}")
        self._check_sampling(seed, temperature, top_p)
        params = pattern.group_params(group)
        self.check_params(params)
        events = pattern.group_events(group)
        if not events:
            return self.generate_group(pattern, group, params, seed, temperature, top_p)
        return self._timed(self._mutate, pattern, group, events, amount, seed, temperature, top_p)

    def _mutate(self, pattern, group, events, amount, seed, temperature, top_p) -> Pattern:
        params = pattern.group_params(group)
        rng = np.random.default_rng([seed, group, 1])
        n_new = len(events) - int(round((1.0 - amount) * len(events)))
        weight = np.array([anchor_weight(e) for e in events])
        rewrite = set(rng.choice(len(events), size=n_new, replace=False,
                                 p=weight / weight.sum()).tolist()) if n_new else set()
        keep = [e for i, e in enumerate(events) if i not in rewrite]
        job = self._job(pattern, group, params, rng, None, keep=keep,
                        count=(len(events), len(events)))
        self._run([job], temperature, top_p)
        return pattern.with_group(group, job.grammar.events, self._stamp(params, seed))

    def fill(self, groove: Pattern, bar: int, seed: int,
             temperature: float = DEFAULT_TEMPERATURE, top_p: float = 0.95) -> Pattern:
        """The groove with bar ``bar`` (0 or 1) played as a fill that leads into the next 1.

        The model writes the fill as bar 2 of a window whose bar 1 is the bar the
        groove plays before it (in the prompt, as written), with the fill header (type fill,
        drums and toms dense), so it hears what leads into it. Drums and toms are
        written first, FILL_CANDIDATES fills side by side; the one whose busiest
        snare-and-tom beat comes latest (a fill builds to the 1) is kept, and the
        hats and cymbals are written over it (they stop, open or ride through as
        the model hears the fill). The other groups of the groove's other bar stay.
        """
        if bar not in (0, 1):
            raise ModelError(f"fill bar must be 0 or 1, got {bar!r}")
        for g in GROUPS:
            self.check_params(groove.group_params(g.number))
        self._check_sampling(seed, temperature, top_p)
        return self._timed(self._fill, groove, bar, seed, temperature, top_p)

    def _fill(self, groove, bar, seed, temperature, top_p) -> Pattern:
        from models.groove import busiest_beat, fill_hits

        half = STEPS // 2
        before = [e for e in groove.events if (e.step >= half) != (bar == 1)]
        lead = Pattern(events=tuple(replace(e, step=e.step % half) for e in before))
        candidates = [lead] * FILL_CANDIDATES
        for g in FILL_ORDER:
            carries = g in (1, 3)
            params = replace(groove.group_params(g), type="fill", auto=frozenset(),
                             **({"density": "high"} if carries else {}))
            before = lead.group_events(g)
            n = len(before)
            count = (n + FILL_MIN_HITS if carries else n, n + FILL_MAX_HITS)
            jobs = [self._job(c, g, params, np.random.default_rng([seed, g, k]), None,
                              count=count, prefix=before) for k, c in enumerate(candidates)]
            self._run(jobs, temperature, top_p)
            candidates = [c.with_group(g, j.grammar.events)
                          for c, j in zip(candidates, jobs, strict=True)]
            if g == 3 and len(candidates) > 1:  # drums and toms: keep the one that builds most
                def build(c: Pattern) -> tuple:
                    b = busiest_beat(c, 1)
                    hits = fill_hits(c, 1)
                    return (-1 if b is None else b, hits[-1], sum(hits))

                candidates = [max(candidates, key=build)]
        fill = [replace(e, step=e.step - half + bar * half) for e in candidates[0].events
                if e.step >= half]
        kept = [e for e in groove.events if e.step // half != bar]
        return groove.with_events([*kept, *fill])

    # --- scoring (eval) -------------------------------------------------------------

    def token_logits(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """The logits at every position of up to 4 sequences (n_i, V), one batch."""
        s = self._session
        if s is None:
            raise ModelError(f"{self.path}: the model is closed")
        s.reset()
        return s.decode([(i, list(seq), 0) for i, seq in enumerate(sequences)], all_logits=True)


def one_hand(pattern: Pattern, group: int) -> frozenset[tuple[int, int]]:
    """The cells a new group leaves alone: the ride on the hats' steps where the hats play
    a pattern, the hats on the ride's where the ride does (HAND_TRACKS)."""
    blocked: set[tuple[int, int]] = set()
    for mine, theirs in (HAND_TRACKS, HAND_TRACKS[::-1]):
        own = [t for t in mine if GROUPS[group - 1].tracks.count(t)]
        if not own:
            continue
        steps = {e.step for e in pattern.events if e.track in theirs}
        if len(steps) >= HAND_PATTERN:
            blocked |= {(s, t) for s in steps for t in own}
    return frozenset(blocked)


def _one_hand(pattern: Pattern, group: int, events: Sequence[Event]) -> list[Event]:
    blocked = one_hand(pattern, group)
    return [e for e in events if (e.step, e.track) not in blocked]


def anchor_weight(event: Event) -> float:
    """How likely mutate is to rewrite a hit: least for the ones on the beat, and loud.

    1 for a soft hit off the 8ths; divided by MUTATE_ANCHOR for a hit on an 8th, again
    for one on a quarter note, and again for one louder than 96.
    """
    anchors = (event.step % 2 == 0) + (event.step % STEPS_PER_BEAT == 0) + (event.velocity > 96)
    return float(MUTATE_ANCHOR ** -anchors)


__all__ = ["DEFAULT_MODEL_PATH", "BeatModel", "ModelError", "PatternError"]
