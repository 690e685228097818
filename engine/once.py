"""One-bar alternatives the player plays once (a fill, a variation), and conditional trigs.

A ``OneShot`` is one bar of another pattern placed at a song bar: its hits at
absolute song ticks (offsets and swing applied), so it needs no wrapping; the
player plays them instead of the groove's hits of that bar (``Playing.hits_due``)
and the groove comes back at the bar after, with a crash on its 1 after a fill.
Which hits of a bar belong to it is decided by step, not by tick: an early hit on
the bar's first step sounds before the bar line and is still the bar's.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from engine.schedule import BAR_TICKS, Hit, Schedule, song_step
from patterns.conditions import TrigState
from patterns.grid import STEPS_PER_BAR, TICKS_PER_STEP, swing_ticks
from patterns.kit import KitMap
from patterns.pattern import Pattern

CRASH_TRACK = 11
CRASH_VELOCITY = 110


@dataclass(frozen=True, slots=True)
class OneShot:
    bar: int  # the song bar it replaces
    fill: bool  # FILL conditions hold in it; the groove's FILL hits play through it
    ticks: tuple[int, ...]  # song ticks of its hits, sorted
    hits: tuple[Hit, ...]  # ... the hits (step: the step since Start)
    cells: frozenset[tuple[int, int]]  # (step in the bar, track) it plays
    crash_tick: int | None = None  # a crash on the 1 after it, at this song tick
    crash: Hit | None = None  # ... played as this hit (the kit's crash note)

    @property
    def end(self) -> int:
        """The last song tick at which it may still act."""
        last = self.ticks[-1] if self.ticks else 0
        return max(last, (self.bar + 1) * BAR_TICKS, self.crash_tick or 0)


def make_oneshot(pattern: Pattern, bar: int, at_bar: int, kit: KitMap, swing: float,
                 fill: bool, crash: bool) -> OneShot:
    """Bar ``bar`` (0, 1) of ``pattern`` placed at song bar ``at_bar``."""
    conds = dict(pattern.conditions)
    items = []
    for e in pattern.events:
        if e.step // STEPS_PER_BAR != bar:
            continue
        r = e.step % STEPS_PER_BAR
        step = at_bar * STEPS_PER_BAR + r
        tick = step * TICKS_PER_STEP + e.offset + swing_ticks(r, swing)
        hit = Hit(tick, e.track, kit.note(e.track), kit.channel(e.track) - 1, e.velocity, step,
                  conds.get((e.step, e.track)))
        items.append((max(0, tick), e.track, hit))
    items.sort(key=lambda x: (x[0], x[1]))
    cells = frozenset((h.step % STEPS_PER_BAR, h.track) for _, _, h in items)
    crash_tick = (at_bar + 1) * BAR_TICKS if crash else None
    crash_hit = Hit(crash_tick or 0, CRASH_TRACK, kit.note(CRASH_TRACK),
                    kit.channel(CRASH_TRACK) - 1, CRASH_VELOCITY,
                    (at_bar + 1) * STEPS_PER_BAR) if crash else None
    return OneShot(at_bar, fill, tuple(t for t, _, _ in items), tuple(h for _, _, h in items),
                   cells, crash_tick, crash_hit)


class Playing:
    """What the player decides hit by hit: one-shots in place of groove bars, conditions."""

    def __init__(self, seed: int = 0) -> None:
        self.trigs = TrigState(seed)
        self.once: list[OneShot] = []  # by bar

    def add(self, shot: OneShot) -> None:
        """Keep a one-shot; a fill replaces whatever was at its bar, a variation only
        an empty bar."""
        for i, old in enumerate(self.once):
            if old.bar == shot.bar:
                if old.fill and not shot.fill:
                    return
                self.once[i] = shot
                return
        self.once.append(shot)
        self.once.sort(key=lambda s: s.bar)

    def cancel(self, position: int) -> None:
        """Forget the one-shots whose bar has not begun."""
        self.once = [s for s in self.once if s.bar * BAR_TICKS <= position]

    def next_tick(self, position: int) -> int | None:
        best = None
        for s in self.once:
            i = bisect.bisect_left(s.ticks, position)
            if i < len(s.ticks) and (best is None or s.ticks[i] < best):
                best = s.ticks[i]
            if s.crash_tick is not None and s.crash_tick >= position:
                best = s.crash_tick if best is None else min(best, s.crash_tick)
        return best

    def prune(self, position: int) -> None:
        if self.once and self.once[0].end < position - TICKS_PER_STEP:
            self.once = [s for s in self.once if s.end >= position - TICKS_PER_STEP]

    def fill_state(self, tick: int) -> tuple[str, int]:
        """("playing" | "waiting" | "", its bar) for the song tick now sounding."""
        bar = tick // BAR_TICKS
        for s in self.once:
            if s.fill and s.bar == bar:
                return "playing", bar
        for s in self.once:
            if s.fill and s.bar > bar:
                return "waiting", s.bar
        return "", -1

    def hits_due(self, schedule: Schedule, tick: int, groove: Pattern) -> list[Hit]:
        """The hits to play at song tick ``tick``: the groove's (but those of a bar a
        one-shot replaces), the one-shots', each through its condition."""
        out = []
        once = self.once
        trigs = self.trigs
        for hit in schedule.hits_at(tick):
            cond = hit.cond
            if cond is None and not once:
                out.append(hit)
                continue
            step = song_step(hit, tick)
            fill = False
            for s in once:
                if s.bar == step // STEPS_PER_BAR:
                    # a fill lets the groove's FILL hits through where it has no hit itself
                    if not (s.fill and cond is not None and cond.kind == "fill"
                            and not cond.negate
                            and (step % STEPS_PER_BAR, hit.track) not in s.cells):
                        break
                    fill = True
            else:
                if cond is None or trigs.plays(cond, hit.track, step, fill):
                    out.append(hit)
        for s in once:
            lo = bisect.bisect_left(s.ticks, tick)
            hi = bisect.bisect_right(s.ticks, tick)
            for hit in s.hits[lo:hi]:
                if hit.cond is None or trigs.plays(hit.cond, hit.track, hit.step, s.fill):
                    out.append(hit)
            if s.crash is not None and s.crash_tick == tick and groove.at(
                    ((s.bar + 1) * STEPS_PER_BAR) % (2 * STEPS_PER_BAR), CRASH_TRACK) is None:
                out.append(s.crash)
        return out
