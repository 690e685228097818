"""Conditional trigs: a condition on a hit decides, loop by loop, whether it plays.

The forms (as Elektron machines have them), written as text the same way in the
command language, step literals and the bank file:

    40%        probability, 1..99 %
    1:2        A:B, plays on the A-th of every B loops (1 <= A <= B, B in 2..8)
    FILL       plays only in a fill bar;  !FILL  only outside one
    PRE        plays only if the previous conditional trig on the same track
               played;  !PRE  only if it did not

Evaluation (``TrigState``) is a pure function of the seed, the song step (steps
since Start, so the loop number too), the track, whether a fill is playing and
the earlier trigs of the track: the same seed gives the same playback loop by
loop, in the engine and in a MIDI export (``played_out``). PRE and !PRE read the
state and leave it as it was; the other forms set it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from patterns.grid import STEPS

KINDS = ("prob", "ab", "fill", "pre")
MAX_B = 8
FORMS = "1..99% (probability), A:B (1 <= A <= B <= 8, B >= 2), FILL, !FILL, PRE or !PRE"
# what `c` at the cursor cycles through (None: no condition)
CYCLE = ("50%", "1:2", "2:2", "1:4", "FILL", "!FILL", "PRE", "!PRE")
_MASK = (1 << 64) - 1


class ConditionError(ValueError):
    """A condition that does not parse: one line naming the accepted forms."""


@dataclass(frozen=True, slots=True, order=True)
class Condition:
    """One trig condition (see the module docstring for the forms)."""

    kind: str  # prob | ab | fill | pre
    a: int = 0  # prob: percent; ab: A
    b: int = 0  # ab: B
    negate: bool = False  # fill / pre: NOT

    def __post_init__(self) -> None:
        ok = (
            (self.kind == "prob" and 1 <= self.a <= 99 and not self.b and not self.negate)
            or (self.kind == "ab" and 2 <= self.b <= MAX_B and 1 <= self.a <= self.b
                and not self.negate)
            or (self.kind in ("fill", "pre") and not self.a and not self.b)
        )
        if not ok:
            raise ConditionError(f"not a condition: {self!r}; accepted: {FORMS}")

    def __str__(self) -> str:
        if self.kind == "prob":
            return f"{self.a}%"
        if self.kind == "ab":
            return f"{self.a}:{self.b}"
        return ("!" if self.negate else "") + self.kind.upper()

    @property
    def glyph(self) -> str:
        """One character for the grid: % probability, digit A of A:B, F fill, P pre
        (lower case: NOT)."""
        if self.kind == "prob":
            return "%"
        if self.kind == "ab":
            return str(self.a)
        letter = "F" if self.kind == "fill" else "P"
        return letter.lower() if self.negate else letter


def parse_condition(text: str) -> Condition:
    """A condition from its text ('40%', '1:2', 'fill', '!fill', 'not fill', 'pre', ...)."""
    raw = text
    word = " ".join(text.strip().lower().split())
    for prefix in ("not ", "not_", "not", "!"):
        if word.startswith(prefix) and word[len(prefix):].strip() in ("fill", "pre"):
            return Condition(word[len(prefix):].strip(), negate=True)
    if word in ("fill", "pre"):
        return Condition(word)
    try:
        if word.endswith("%"):
            percent = int(word[:-1])
            if 1 <= percent <= 99:
                return Condition("prob", percent)
        elif ":" in word:
            a_text, b_text = word.split(":", 1)
            a, b = int(a_text), int(b_text)
            if 2 <= b <= MAX_B and 1 <= a <= b:
                return Condition("ab", a, b)
    except ValueError:
        pass
    raise ConditionError(f"not a condition: {raw!r}; accepted: {FORMS}")


def next_condition(cond: Condition | None, direction: int = 1) -> Condition | None:
    """The next condition of ``CYCLE`` (None, no condition, between the last and the first)."""
    ring: list[Condition | None] = [None, *(parse_condition(t) for t in CYCLE)]
    i = ring.index(cond) if cond in ring else 0
    return ring[(i + direction) % len(ring)]


def chance(seed: int, song_step: int, track: int) -> float:
    """A number in [0, 1) fixed by (seed, song step, track): splitmix64 of the three."""
    x = (seed * 0x9E3779B97F4A7C15 + song_step * 0xBF58476D1CE4E5B9 + track * 0x94D049BB133111EB
         + 0x632BE59BD9B4E019) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    x ^= x >> 31
    return (x >> 11) / float(1 << 53)


class TrigState:
    """Plays conditions out in time order: the seed and each track's last outcome."""

    __slots__ = ("seed", "last")

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.last: dict[int, bool] = {}  # track -> did its last conditional trig play

    def reset(self) -> None:
        self.last.clear()

    def plays(self, cond: Condition, track: int, song_step: int, fill: bool = False) -> bool:
        kind = cond.kind
        if kind == "pre":
            return self.last.get(track, False) != cond.negate
        if kind == "prob":
            ok = chance(self.seed, song_step, track) * 100.0 < cond.a
        elif kind == "ab":
            ok = (song_step // STEPS) % cond.b == cond.a - 1
        else:
            ok = fill != cond.negate
        self.last[track] = ok
        return ok


Cell = tuple[int, int]  # (step 0..31, track 1..12)


def played_out(pattern, loops: int, seed: int = 0) -> list:
    """The pattern played ``loops`` times from Start, each loop a plain Pattern (no
    conditions) holding the hits that play: what the engine plays for the same seed."""
    if loops < 1:
        raise ConditionError(f"loops must be at least 1, got {loops}")
    return played_in_turn([pattern] * loops, seed)


def played_in_turn(patterns: Sequence, seed: int = 0) -> list:
    """Patterns played one loop each from Start (a chain, loops of one pattern), the
    conditions played out as the engine plays them; patterns without any stay as they are."""
    state = TrigState(seed)
    out = []
    for loop, pattern in enumerate(patterns):
        if not pattern.conditions:
            out.append(pattern)
            continue
        conds = dict(pattern.conditions)
        kept = []
        for e in pattern.events:  # sorted by (step, track): time order of the steps
            cond = conds.get((e.step, e.track))
            if cond is None or state.plays(cond, e.track, loop * STEPS + e.step):
                kept.append(e)
        out.append(replace(pattern.with_events(kept), conditions=()))
    return out


def check_conditions(items: Iterable[tuple[Cell, Condition]]) -> tuple[tuple[Cell, Condition], ...]:
    """Conditions sorted by cell, one a cell (a later one wins)."""
    cells: dict[Cell, Condition] = {}
    for cell, cond in items:
        if not isinstance(cond, Condition):
            raise ConditionError(f"not a condition: {cond!r}; accepted: {FORMS}")
        cells[(int(cell[0]), int(cell[1]))] = cond
    return tuple(sorted(cells.items()))


def describe(conditions: Sequence[tuple[Cell, Condition]]) -> str:
    """'kick 5 1:2, chh 3 40%' (steps counted from 1)."""
    from patterns.grid import TRACKS

    return ", ".join(f"{TRACKS[t - 1].name} {s + 1} {c}" for (s, t), c in conditions)
