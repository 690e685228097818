"""How a beat sounds to a drummer: the measures of ``autobeat eval --groove``.

Each measure is computed the same way on real beats (2-bar windows of the
Groove data) and on beats the model writes with no options, so the two columns
of the report compare like with like. A beat is a ``Pattern``; tracks and
groups are PRODUCT.md's.

- ``toms_share``: beats with any tom hit.
- ``crash_per_beat``: crash hits a beat.
- ``steady_hats``: hats (closed, pedal or open) on every 8th through both bars.
- ``hat_gap_bar2``: hats on every 8th of bar 1 but not of bar 2.
- ``ride_pattern``: beats with 8 or more ride hits.
- ``bar2_near_repeat``: the drums' bar 2 repeats bar 1 but for at most 20 % of
  the cells either bar uses.
- ``timing_sd_ms`` / ``hat_timing_sd_ms``: the spread (SD) of the micro-timing
  offsets within a beat, in ms at 100 BPM, averaged over beats (all hits / hats).
- ``snare_loud_share``: snare hits at velocity 124 or more.
- ``backbeat``: snare, clap or rim on at least 3 of the 4 backbeats (beats 2
  and 4 of both bars), over the genres built on one (BACKBEAT_GENRES).
- ``hats_in_runs``: of the quarter notes holding 3 or more snare or tom hits,
  the share where the hats play too.

``groove_report`` adds what needs the model: ``context_gain_f1`` (hats written
over a real beat's drums, toms and cymbals, against that beat's real hats, as
F1 of the cells, minus hats written with no context), ``backbeat_after_8_mutates``
(of the beats with a backbeat, the share that keeps it after 8 mutates of the
drums at the app's amount) and ``feature_overlap`` (``models.evaluate``'s
features of every group, generated against real).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np

from codec.levels import near_repeat
from patterns.grid import GROUPS, STEPS, STEPS_PER_BAR, STEPS_PER_BEAT, TICKS_PER_BEAT
from patterns.pattern import Pattern

BACKBEAT_GENRES = ("rock", "funk", "pop", "soul", "hiphop")
KICK, RIM, SNARE, CLAP = 1, 2, 3, 4
HATS = (5, 6, 7)
TOMS = (8, 9, 10)
CRASH, RIDE = 11, 12
BACKBEAT_STEPS = tuple(s for s in range(STEPS) if s % (2 * STEPS_PER_BEAT) == STEPS_PER_BEAT)
LOUD_VELOCITY = 124
TIMING_BPM = 100.0
MS_PER_TICK = 60_000.0 / TIMING_BPM / TICKS_PER_BEAT


def _steps(pattern: Pattern, tracks: Iterable[int]) -> set[int]:
    tracks = set(tracks)
    return {e.step for e in pattern.events if e.track in tracks}


def has_toms(p: Pattern) -> bool:
    return any(e.track in TOMS for e in p.events)


def crashes(p: Pattern) -> int:
    return sum(1 for e in p.events if e.track == CRASH)


def hat_eighths(p: Pattern, bar: int) -> bool:
    """Hats on every 8th note of a bar (0 or 1)."""
    steps = _steps(p, HATS)
    first = bar * STEPS_PER_BAR
    return all(s in steps for s in range(first, first + STEPS_PER_BAR, 2))


def ride_hits(p: Pattern) -> int:
    return sum(1 for e in p.events if e.track == RIDE)


def timing_sd(p: Pattern, tracks: Iterable[int] | None = None) -> float | None:
    """SD of the offsets within the beat, in ms at 100 BPM (None under two hits)."""
    keep = None if tracks is None else set(tracks)
    offsets = [e.offset for e in p.events if keep is None or e.track in keep]
    if len(offsets) < 2:
        return None
    return float(np.std(offsets)) * MS_PER_TICK


def has_backbeat(p: Pattern) -> bool:
    steps = _steps(p, (RIM, SNARE, CLAP))
    return sum(1 for s in BACKBEAT_STEPS if s in steps) >= 3


def runs(p: Pattern) -> list[bool]:
    """For each quarter note with 3 or more snare or tom hits: do the hats play in it?"""
    out = []
    for first in range(0, STEPS, STEPS_PER_BEAT):
        span = range(first, first + STEPS_PER_BEAT)
        hits = sum(1 for e in p.events if e.step in span and e.track in (SNARE, *TOMS))
        if hits >= 3:
            out.append(any(e.step in span and e.track in HATS for e in p.events))
    return out


def fill_hits(p: Pattern, bar: int) -> list[int]:
    """Snare and tom hits on each of the 4 beats of a bar (0 or 1): a fill's shape."""
    hits = [0] * (STEPS_PER_BAR // STEPS_PER_BEAT)
    for e in p.events:
        if e.track in (SNARE, *TOMS) and e.step // STEPS_PER_BAR == bar:
            hits[(e.step % STEPS_PER_BAR) // STEPS_PER_BEAT] += 1
    return hits


def busiest_beat(p: Pattern, bar: int) -> int | None:
    """The beat (0..3) of the bar with the most snare and tom hits, the latest on a tie."""
    hits = fill_hits(p, bar)
    if not any(hits):
        return None
    return max(range(len(hits)), key=lambda b: (hits[b], b))


def hats_on_beat(p: Pattern, bar: int, beat: int) -> bool:
    first = bar * STEPS_PER_BAR + beat * STEPS_PER_BEAT
    return any(e.track in HATS and first <= e.step < first + STEPS_PER_BEAT for e in p.events)


def cell_f1(generated: Pattern, real: Pattern, group: int) -> float:
    """F1 of the (step, track) cells of one group against the real ones."""
    tracks = set(GROUPS[group - 1].tracks)
    g = {(e.step, e.track) for e in generated.events if e.track in tracks}
    r = {(e.step, e.track) for e in real.events if e.track in tracks}
    if not g and not r:
        return 1.0
    hit = len(g & r)
    return 2.0 * hit / (len(g) + len(r))


def _mean(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def measures(beats: Sequence[tuple[str, Pattern]]) -> dict[str, float | None]:
    """The measures above over (genre, pattern) beats (see the module docstring)."""
    pats = [p for _g, p in beats]
    bar1 = [p for p in pats if hat_eighths(p, 0)]
    loud = [e.velocity >= LOUD_VELOCITY for p in pats for e in p.events if e.track == SNARE]
    backbeat = [has_backbeat(p) for g, p in beats if g in BACKBEAT_GENRES]
    in_runs = [played for p in pats for played in runs(p)]
    return {
        "toms_share": _mean([float(has_toms(p)) for p in pats]),
        "crash_per_beat": _mean([float(crashes(p)) for p in pats]),
        "steady_hats": _mean([float(hat_eighths(p, 0) and hat_eighths(p, 1)) for p in pats]),
        "hat_gap_bar2": _mean([float(not hat_eighths(p, 1)) for p in bar1]) if bar1 else 0.0,
        "ride_pattern": _mean([float(ride_hits(p) >= 8) for p in pats]),
        "bar2_near_repeat": _mean([float(near_repeat(p)) for p in pats]),
        "timing_sd_ms": _mean([timing_sd(p) for p in pats]),
        "hat_timing_sd_ms": _mean([timing_sd(p, HATS) for p in pats]),
        "snare_loud_share": _mean([float(v) for v in loud]) if loud else 0.0,
        "backbeat": _mean([float(b) for b in backbeat]),
        "hats_in_runs": _mean([float(v) for v in in_runs]) if in_runs else 0.0,
    }


MUTATES = 8


def new_beat(model, genre: str, seed: int) -> Pattern:
    """What `G` gives with no options: a new pattern's groups (auto levels) in the genre."""
    blank = Pattern()
    params = [replace(p, genre=genre) for p in blank.params]
    return model.generate_all(blank, params, seed)


def _overlap(real: Sequence[Pattern], made: Sequence[Pattern]) -> dict:
    from models.evaluate import FEATURES, group_features, overlap_area

    out: dict = {}
    by_group: dict[int, list[float]] = {}
    pooled: dict[str, tuple[list, list]] = {f: ([], []) for f in FEATURES}
    for g in GROUPS:
        feats: dict[str, tuple[list, list]] = {f: ([], []) for f in FEATURES}
        for side, pats in enumerate((real, made)):
            for p in pats:
                for name, value in group_features(p.group_events(g.number)).items():
                    if value is not None:
                        feats[name][side].append(value)
                        pooled[name][side].append(value)
        scores = [overlap_area(*feats[f]) for f in FEATURES]
        by_group[g.number] = [x for x in scores if not np.isnan(x)]
    for f in FEATURES:
        out[f] = round(overlap_area(*pooled[f]), 4)
    out["mean"] = round(float(np.nanmean([out[f] for f in FEATURES])), 4)
    out["by_group"] = {GROUPS[g - 1].name: round(float(np.mean(v)), 4)
                       for g, v in by_group.items()}
    out["lowest_group"] = min(out["by_group"].values())
    return out


def _after_mutates(model, beats: Sequence[tuple[str, Pattern]], amount: float,
                   seed: int) -> float | None:
    kept = []
    for n, (genre, p) in enumerate(beats):
        if genre not in BACKBEAT_GENRES or not has_backbeat(p):
            continue
        for k in range(MUTATES):
            p = model.mutate(p, 1, amount, (seed * 7919 + n * MUTATES + k) % 2**32)
        kept.append(float(has_backbeat(p)))
    return round(float(np.mean(kept)), 4) if kept else None


def _context_gain(model, real: Sequence[tuple[str, Pattern]], seed: int) -> float:
    gains = []
    for n, (genre, p) in enumerate(real):
        hats = replace(Pattern().params[1], genre=genre, type="beat")
        s = (seed * 104729 + n) % 2**32
        with_ctx = model.generate_group(p.with_group(2, ()), 2, hats, s)
        alone = model.generate_group(Pattern(), 2, hats, s)
        gains.append(cell_f1(with_ctx, p, 2) - cell_f1(alone, p, 2))
    return round(float(np.mean(gains)), 4)


def groove_report(model, real: Sequence[tuple[str, Pattern]], beats: int, seed: int = 0,
                  say: Callable[[str], None] = lambda _m: None,
                  mutate_amount: float | None = None) -> dict:
    """Real beats against ``beats`` new ones (genres drawn in the real beats' proportions)."""
    from models.runner import DEFAULT_MUTATE_AMOUNT

    if not real:
        raise ValueError("no real 4/4 beats to compare with")
    mutate_amount = DEFAULT_MUTATE_AMOUNT if mutate_amount is None else mutate_amount
    rng = np.random.default_rng(seed)
    picks = [real[int(i)] for i in rng.choice(len(real), size=beats, replace=beats > len(real))]
    started = time.monotonic()
    made = []
    for n, (genre, _p) in enumerate(picks):
        made.append((genre, new_beat(model, genre, (seed * 1_000_003 + n) % 2**32)))
        if (n + 1) % 50 == 0 or n + 1 == beats:
            say(f"groove: {n + 1}/{beats} new beats ({time.monotonic() - started:.0f} s)")
    report: dict = {"real": measures(real), "generated": measures(made)}
    say(f"groove: hats over real beats and alone, {beats} of each")
    report["real"]["context_gain_f1"] = None
    report["generated"]["context_gain_f1"] = _context_gain(model, picks, seed)
    say(f"groove: {MUTATES} mutates of the drums of each beat with a backbeat")
    report["real"]["backbeat_after_8_mutates"] = _after_mutates(model, picks, mutate_amount, seed)
    report["generated"]["backbeat_after_8_mutates"] = _after_mutates(model, made, mutate_amount,
                                                                     seed)
    report["real"]["feature_overlap"] = None
    report["generated"]["feature_overlap"] = _overlap([p for _g, p in real],
                                                      [p for _g, p in made])
    report["beats"] = beats
    report["real_beats"] = len(real)
    report["seconds"] = round(time.monotonic() - started, 1)
    return report
