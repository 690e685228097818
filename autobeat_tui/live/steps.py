"""Step literals: one track's 32 steps written as text (``kick x...x...x..x``).

Each character is a step:

    .  -  _     a rest
    x           a hit at velocity 100
    X           an accent (127)
    o           a soft hit (64)
    g           a ghost note (32)
    1..9        a hit at velocity 14, 28, ..., 127 (the digit times 127 / 9)

Spaces and ``|`` are ignored, so bars can be set apart (``x...x... | x...x...``).
A literal of 1, 2, 4, 8 or 16 steps repeats to fill the 32.

A hit may carry a conditional trig in brackets right after it (patterns/conditions.py):
``x[1:2]`` plays on the first of every two loops, ``o[40%]``, ``x[fill]``, ``x[!pre]``.
"""

from __future__ import annotations

from patterns.conditions import Condition, ConditionError, parse_condition
from patterns.grid import STEPS, TRACKS
from patterns.pattern import Event

REST_CHARS = ".-_"
LETTER_VELOCITIES = {"x": 100, "X": 127, "o": 64, "g": 32}
SEPARATORS = " |\t"
REPEATABLE_LENGTHS = (1, 2, 4, 8, 16, 32)


class StepLiteralError(ValueError):
    """A step literal that cannot be read: says which character or length was wrong."""


def digit_velocity(digit: int) -> int:
    """The velocity a digit 1..9 stands for: 14, 28, ..., 127."""
    if not 1 <= digit <= 9:
        raise StepLiteralError(f"velocity digit must be in 1..9, got {digit}")
    return round(digit * 127 / 9)


def char_velocity(char: str) -> int | None:
    """The velocity a character stands for, or None for a rest."""
    if char in REST_CHARS:
        return None
    if char in LETTER_VELOCITIES:
        return LETTER_VELOCITIES[char]
    if char.isdecimal() and char != "0":
        return digit_velocity(int(char))
    raise StepLiteralError(f"unknown step {char!r}: use . for a rest, x X o g or 1..9 for a hit")


def parse_cells(text: str) -> tuple[tuple[int | None, Condition | None], ...]:
    """The 32 (velocity or None for a rest, condition or None) a literal stands for."""
    cells: list[tuple[int | None, Condition | None]] = []
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if c in SEPARATORS:
            continue
        if c == "[":
            end = text.find("]", i)
            if not cells or cells[-1][0] is None or cells[-1][1] is not None or end < 0:
                raise StepLiteralError("a condition goes in [ ] right after a hit, e.g. x[1:2]")
            try:
                cells[-1] = (cells[-1][0], parse_condition(text[i:end]))
            except ConditionError as exc:
                raise StepLiteralError(str(exc)) from None
            i = end + 1
            continue
        cells.append((char_velocity(c), None))
    if len(cells) not in REPEATABLE_LENGTHS:
        raise StepLiteralError(
            f"a step literal has 32 steps (or 16, 8, 4, 2, 1 to repeat), got {len(cells)}"
        )
    return tuple(cells) * (STEPS // len(cells))


def parse_steps(text: str) -> tuple[int | None, ...]:
    """The 32 velocities (None for a rest) a literal stands for."""
    return tuple(v for v, _ in parse_cells(text))


def parse_track_conditions(track: int, text: str) -> tuple[tuple[tuple[int, int], Condition], ...]:
    """The conditional trigs a literal writes on a track: ((step, track), condition)."""
    return tuple(((step, track), cond) for step, (_, cond) in enumerate(parse_cells(text))
                 if cond is not None)


def parse_track_literal(track: int, text: str) -> tuple[Event, ...]:
    """The events a literal writes on a track (1..12), on the grid (offset 0)."""
    if not 1 <= track <= len(TRACKS):
        raise StepLiteralError(f"track must be in 1..{len(TRACKS)}, got {track}")
    return tuple(
        Event(step, track, 0, velocity)
        for step, velocity in enumerate(parse_steps(text))
        if velocity is not None
    )


def velocity_char(velocity: int) -> str:
    """The character that writes a velocity back: x and X where exact, else a digit."""
    for char, value in LETTER_VELOCITIES.items():
        if value == velocity and char in "xX":
            return char
    return str(max(1, min(9, round(velocity * 9 / 127))))


def format_track(events: tuple[Event, ...] | list[Event], track: int,
                 conditions=()) -> str:
    """A track's events as a 32-step literal (offsets dropped), bars set apart by a space;
    conditional trigs in brackets after their hit."""
    cells = ["."] * STEPS
    for e in events:
        if e.track == track:
            cells[e.step] = velocity_char(e.velocity)
    for (step, t), cond in conditions:
        if t == track and cells[step] != ".":
            cells[step] += f"[{cond}]"
    return f"{''.join(cells[:16])} {''.join(cells[16:])}"
