"""A pattern compiled for the player: note-ons at integer grid ticks of the 2-bar loop.

Positions are grid ticks (96 a step, 3072 a pattern) with the event's offset and
the swing already applied, wrapped into the loop: an early hit on step 0 sounds
at the end of the loop before (the pattern repeats). The kit map gives each
track's note and channel. Compiling is done once per pattern, outside the timing
path; the player only bisects the tuple.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from patterns.conditions import Condition
from patterns.grid import GATE_TICKS, STEPS, TICKS_PER_STEP, swing_ticks
from patterns.kit import KitMap
from patterns.pattern import Pattern

LOOP_TICKS = STEPS * TICKS_PER_STEP  # 3072
BAR_TICKS = LOOP_TICKS // 2  # 1536
CLOCK_TICKS = 16  # grid ticks per MIDI clock (24 a quarter note, 384 grid ticks a quarter)
GATE = GATE_TICKS


@dataclass(frozen=True, slots=True)
class Hit:
    """One note-on of the loop."""

    tick: int  # 0..LOOP_TICKS-1, swing and offset applied, wrapped
    track: int  # 1..12
    note: int  # 0..127
    channel: int  # 0..15 (as on the wire)
    velocity: int  # 1..127
    step: int  # the grid step it belongs to
    cond: Condition | None = None  # a conditional trig (patterns.conditions)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The hits of one pattern in loop order (ties: by track)."""

    hits: tuple[Hit, ...]
    ticks: tuple[int, ...]  # hits' ticks, for bisect
    conditional: bool = False  # some hit has a condition (the player decides hit by hit)

    def next_tick(self, song_tick: int) -> int | None:
        """The first song tick >= song_tick with a hit, or None for an empty pattern."""
        if not self.hits:
            return None
        loop, pos = divmod(song_tick, LOOP_TICKS)
        i = bisect.bisect_left(self.ticks, pos)
        if i < len(self.ticks):
            return loop * LOOP_TICKS + self.ticks[i]
        return (loop + 1) * LOOP_TICKS + self.ticks[0]

    def hits_at(self, song_tick: int) -> tuple[Hit, ...]:
        pos = song_tick % LOOP_TICKS
        lo = bisect.bisect_left(self.ticks, pos)
        hi = bisect.bisect_right(self.ticks, pos)
        return self.hits[lo:hi]


EMPTY = Schedule((), ())


def song_step(hit: Hit, song_tick: int) -> int:
    """The step since Start a hit played at ``song_tick`` belongs to: an early hit on
    step 1 sounds at the end of the loop before, a late one on step 32 after the loop."""
    loop, pos = divmod(song_tick, LOOP_TICKS)
    d = hit.step * TICKS_PER_STEP - pos
    if d < -LOOP_TICKS // 2:
        loop += 1
    elif d > LOOP_TICKS // 2:
        loop -= 1
    return loop * STEPS + hit.step


def compile_pattern(pattern: Pattern, kit: KitMap, swing: float | None = None) -> Schedule:
    """The pattern's hits in loop order; swing (50..75 %) defaults to the pattern's own."""
    sw = pattern.swing if swing is None else swing
    hits = []
    conds = dict(pattern.conditions)
    for e in pattern.events:
        tick = (e.step * TICKS_PER_STEP + e.offset + swing_ticks(e.step, sw)) % LOOP_TICKS
        hits.append(
            Hit(tick, e.track, kit.note(e.track), kit.channel(e.track) - 1, e.velocity, e.step,
                conds.get((e.step, e.track)))
        )
    hits.sort(key=lambda h: (h.tick, h.track))
    return Schedule(tuple(hits), tuple(h.tick for h in hits), bool(conds))
