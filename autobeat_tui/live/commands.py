"""The commands of the live-coding language, as values (what ``parse`` returns).

Counting is as musicians count in the text (groups 1..4, tracks 1..12, steps 1..32);
these values hold steps from 0 as the patterns do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Gen:
    group: int | None  # 1..4; None: the selected group
    all: bool = False  # all four groups
    params: tuple[tuple[str, str], ...] = ()  # overrides of genre/type/density/intensity
    seed: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class Mutate:
    group: int | None
    amount: float | None = None  # 0.05..1; None: the current amount
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class SetParams:
    group: int | None  # None: genre and type for the whole pattern, the rest the selected group
    params: tuple[tuple[str, str], ...]  # value "next" / "prev" cycles
    all: bool = False  # every key for all four groups


@dataclass(frozen=True, slots=True)
class Bpm:
    value: float
    relative: bool = False


@dataclass(frozen=True, slots=True)
class SlotTempo:
    """`bpm own`: this slot keeps its own tempo; `bpm global`: it follows the bank's."""

    own: bool


@dataclass(frozen=True, slots=True)
class Swing:
    value: float
    relative: bool = False


@dataclass(frozen=True, slots=True)
class Mute:
    track: int | None  # None: every track
    on: bool | None = None  # None: toggle


@dataclass(frozen=True, slots=True)
class Solo:
    track: int | None
    on: bool | None = None


@dataclass(frozen=True, slots=True)
class Play:
    action: str  # "start" | "stop" | "continue" | "toggle"


@dataclass(frozen=True, slots=True)
class Undo:
    pass


@dataclass(frozen=True, slots=True)
class Redo:
    pass


@dataclass(frozen=True, slots=True)
class Select:
    group: int


@dataclass(frozen=True, slots=True)
class Slot:
    slot: str | None = None  # a slot name, or None with a move
    move: int = 0  # -1 previous, +1 next


@dataclass(frozen=True, slots=True)
class Save:
    slot: str | None = None  # None: the current slot


@dataclass(frozen=True, slots=True)
class Load:
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class Chain:
    entries: tuple[tuple[str, int], ...]  # (slot, times); () turns the chain off
    name: str | None = None  # a chain kept in the bank (`autobeat bank chain`)
    save_as: str | None = None  # keep these entries in the bank under this name, and play


@dataclass(frozen=True, slots=True)
class Export:
    path: str
    slot: str | None = None  # None: the pattern on screen
    loops: int = 1  # loops written, conditional trigs played out loop by loop


@dataclass(frozen=True, slots=True)
class Render:
    path: str  # a .wav file
    slot: str | None = None  # None: the pattern on screen (as it plays: mutes, solos)
    bars: int = 8


@dataclass(frozen=True, slots=True)
class Clock:
    mode: str | None  # internal | master | follow; None: show the clock
    port: str | None = None


@dataclass(frozen=True, slots=True)
class Out:
    name: str | None  # None: list the outputs; "none": no output


@dataclass(frozen=True, slots=True)
class Latency:
    name: str | None = None  # an output name fragment; None: the output playing now
    ms: float | None = None  # -100..100 (> 0: earlier); None: list the offsets kept


@dataclass(frozen=True, slots=True)
class StepLiteral:
    track: int
    events: tuple = ()  # tuple[Event, ...]
    show: bool = False  # the track name alone: show its literal
    conditions: tuple = ()  # ((step, track), Condition) written in brackets


@dataclass(frozen=True, slots=True)
class Hit:
    track: int
    step: int  # 0..31
    velocity: int | None = None  # None: 100, or keep the hit's velocity


@dataclass(frozen=True, slots=True)
class Clear:
    track: int | None = None  # None with group: the whole group
    step: int | None = None  # None: the whole track
    group: int | None = None


@dataclass(frozen=True, slots=True)
class Velocity:
    track: int
    step: int
    value: int
    relative: bool = False


@dataclass(frozen=True, slots=True)
class Amount:
    value: float
    relative: bool = False


@dataclass(frozen=True, slots=True)
class Cond:
    """A conditional trig on a hit (issue 13): set, cleared (None), cycled, or listed."""

    track: int | None = None  # None: list the conditions (or set the seed)
    step: int | None = None
    condition: object = None  # patterns.conditions.Condition | None (off)
    cycle: int = 0  # +1 / -1: the next / previous condition of the cycle
    seed: int | None = None  # `cond seed N`: the seed probabilities play out from


@dataclass(frozen=True, slots=True)
class Fill:
    """Arm a fill: the model writes one, it plays once in the next bar."""


@dataclass(frozen=True, slots=True)
class Crash:
    on: bool  # a crash on the 1 after a fill


@dataclass(frozen=True, slots=True)
class Phrase:
    bars: int  # 4 | 8 | 16; 0: off


@dataclass(frozen=True, slots=True)
class Vary:
    amount: float  # 0: off


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class Messages:
    """Every message of this session, whole (the message line cuts long ones)."""


Command = (
    Gen
    | Messages
    | Latency
    | Mutate
    | SetParams
    | Bpm
    | SlotTempo
    | Swing
    | Mute
    | Solo
    | Play
    | Undo
    | Redo
    | Select
    | Slot
    | Save
    | Load
    | Queue
    | Chain
    | Export
    | Render
    | Clock
    | Out
    | StepLiteral
    | Hit
    | Clear
    | Velocity
    | Amount
    | Cond
    | Fill
    | Crash
    | Phrase
    | Vary
    | Help
    | Quit
)
