"""The grid: 2 bars of 4/4 at 4 steps a beat, 12 tracks in 4 groups (PRODUCT.md).

Micro-timing: an event sits on a step with an offset in ticks of 1/96 step
(384 ticks a quarter note), from -48 (half a step early) to +47 (just under half
a step late). At 120 BPM a tick is 1.3 ms, at 50 BPM 3.1 ms, so a performance
survives the trip through the grid within 1.6 ms at any tempo of the training data.
"""

from __future__ import annotations

from dataclasses import dataclass

BARS = 2
BEATS_PER_BAR = 4
STEPS_PER_BEAT = 4
STEPS_PER_BAR = BEATS_PER_BAR * STEPS_PER_BEAT
STEPS = BARS * STEPS_PER_BAR  # 32
TICKS_PER_STEP = 96
TICKS_PER_BEAT = TICKS_PER_STEP * STEPS_PER_BEAT  # 384
MIN_OFFSET = -TICKS_PER_STEP // 2  # -48
MAX_OFFSET = TICKS_PER_STEP // 2 - 1  # 47
GATE_TICKS = TICKS_PER_STEP // 2  # note length on export and on the player: half a step


@dataclass(frozen=True, slots=True)
class Track:
    """One of the 12 instrument tracks."""

    number: int  # 1..12, as in PRODUCT.md
    name: str  # short name used in commands ("kick", "chh", ...)
    label: str  # what the screen shows
    group: int  # 1..4
    gm_note: int  # General MIDI drum note, the default kit map


@dataclass(frozen=True, slots=True)
class Group:
    """An instrument group: the unit the model generates."""

    number: int  # 1..4
    name: str
    tracks: tuple[int, ...]  # track numbers, ascending


TRACKS: tuple[Track, ...] = (
    Track(1, "kick", "Kick", 1, 36),
    Track(2, "rim", "Rimshot", 1, 37),
    Track(3, "snare", "Snare", 1, 38),
    Track(4, "clap", "Clap", 1, 39),
    Track(5, "chh", "Closed hat", 2, 42),
    Track(6, "phh", "Pedal hat", 2, 44),
    Track(7, "ohh", "Open hat", 2, 46),
    Track(8, "ltom", "Low tom", 3, 45),
    Track(9, "mtom", "Mid tom", 3, 47),
    Track(10, "htom", "High tom", 3, 50),
    Track(11, "crash", "Crash", 4, 49),
    Track(12, "ride", "Ride", 4, 51),
)

GROUPS: tuple[Group, ...] = (
    Group(1, "drums", (1, 2, 3, 4)),
    Group(2, "hats", (5, 6, 7)),
    Group(3, "toms", (8, 9, 10)),
    Group(4, "cymbals", (11, 12)),
)

_TRACK_ALIASES = {
    "bd": 1,
    "rimshot": 2,
    "sd": 3,
    "cp": 4,
    "hh": 5,
    "closedhat": 5,
    "hat": 5,
    "pedal": 6,
    "oh": 7,
    "openhat": 7,
    "lt": 8,
    "mt": 9,
    "ht": 10,
    "cr": 11,
    "rd": 12,
}


def group_of(track: int) -> int:
    """The group (1..4) a track (1..12) belongs to."""
    if not 1 <= track <= len(TRACKS):
        raise ValueError(f"track must be in 1..{len(TRACKS)}, got {track}")
    return TRACKS[track - 1].group


def track_by_name(name: str) -> int:
    """A track number from a number, a short name or an alias ("kick", "5", "hh")."""
    key = name.strip().lower()
    if key.isdecimal():
        number = int(key)
        if 1 <= number <= len(TRACKS):
            return number
        raise ValueError(f"track must be in 1..{len(TRACKS)}, got {number}")
    for track in TRACKS:
        if track.name == key:
            return track.number
    if key in _TRACK_ALIASES:
        return _TRACK_ALIASES[key]
    names = ", ".join(t.name for t in TRACKS)
    raise ValueError(f"unknown track {name!r}: use 1..12 or one of {names}")


def swing_ticks(step: int, swing: float) -> int:
    """How many ticks swing delays a step: the second 16th of each 8th pair.

    swing is a percentage as on an MPC: 50 plays straight, 66.7 a triplet feel,
    75 a dotted feel. The delayed 16th lands at swing% of the 8th note.
    """
    if step % 2 == 0:
        return 0
    return round((2 * swing / 100.0 - 1.0) * TICKS_PER_STEP)
