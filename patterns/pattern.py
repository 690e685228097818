"""Immutable pattern values: events, per-group generation facts, tempo and swing.

A Pattern is a frozen value: the app hands a snapshot to the player without
copying, and every edit returns a new Pattern.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from operator import attrgetter

from patterns.conditions import Condition, ConditionError, check_conditions
from patterns.grid import GROUPS, MAX_OFFSET, MIN_OFFSET, STEPS, TRACKS

_TRACK_COUNT = len(TRACKS)
_CELL = attrgetter("step", "track")  # an event's cell: one event a cell
TYPES = ("beat", "fill")
LEVELS = ("low", "mid", "high")
AUTO = "auto"  # a level the model draws (codec.levels) instead of one the user pinned
AUTO_LEVELS = frozenset({"density", "intensity"})
LEVEL_CHOICES = (AUTO, *LEVELS)  # what a user may ask for a density or an intensity
MIN_TEMPO = 20.0
MAX_TEMPO = 300.0
MIN_SWING = 50.0
MAX_SWING = 75.0
PHRASES = (0, 4, 8, 16)  # bars a phrase (0: off): a fill plays in its last bar


class PatternError(ValueError):
    """A value outside the domain: names the field, the allowed range and the value."""


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PatternError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise PatternError(f"{name} must be in {low}..{high}, got {value}")


@dataclass(frozen=True, slots=True, order=True, init=False)
class Event:
    """One hit: a step, a track, a micro-timing offset and a velocity."""

    step: int  # 0..31, the 16th-note step in the 2-bar pattern
    track: int  # 1..12
    offset: int = 0  # ticks of 1/96 step from the step: -48..47 (negative: early)
    velocity: int = 100  # 1..127

    def __init__(self, step: int, track: int, offset: int = 0, velocity: int = 100) -> None:
        # Checked before it exists, the common case in one test: a bank loads tens of
        # thousands of events, and the generated __init__ + __post_init__ cost 60 % more.
        if not (
            type(step) is int and type(track) is int and type(offset) is int
            and type(velocity) is int and 0 <= step < STEPS and 1 <= track <= _TRACK_COUNT
            and MIN_OFFSET <= offset <= MAX_OFFSET and 1 <= velocity <= 127
        ):  # fmt: skip
            _check_range("step", step, 0, STEPS - 1)
            _check_range("track", track, 1, len(TRACKS))
            _check_range("offset", offset, MIN_OFFSET, MAX_OFFSET)
            _check_range("velocity", velocity, 1, 127)
        _set_step(self, step)
        _set_track(self, track)
        _set_offset(self, offset)
        _set_velocity(self, velocity)

    @property
    def group(self) -> int:
        return TRACKS[self.track - 1].group


# an Event's fields, each set once by its __init__ (the slots' own setters: the fastest way)
_set_step, _set_track, _set_offset, _set_velocity = (
    getattr(Event, name).__set__ for name in ("step", "track", "offset", "velocity")
)


@dataclass(frozen=True, slots=True)
class GroupParams:
    """How a group was (or will be) generated: the model's header, a seed, the model."""

    genre: str = "rock"
    type: str = "beat"  # beat | fill
    density: str = "mid"  # low | mid | high
    intensity: str = "mid"  # low | mid | high
    seed: int | None = None  # the seed of the last generation, None if hand-made
    model: str = ""  # the model file that wrote it, "" if hand-made
    # which of density and intensity are auto: drawn anew at each generation (the
    # fields above then hold the last drawn level); the others are pinned
    auto: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.genre or any(c.isspace() or c == ":" for c in self.genre):
            raise PatternError(f"genre must be one word without ':', got {self.genre!r}")
        if self.type not in TYPES:
            raise PatternError(f"type must be one of {', '.join(TYPES)}, got {self.type!r}")
        for name in ("density", "intensity"):
            value = getattr(self, name)
            if value not in LEVELS:
                raise PatternError(f"{name} must be one of {', '.join(LEVELS)}, got {value!r}")
        if self.seed is not None:
            _check_range("seed", self.seed, 0, 2**32 - 1)
        auto = frozenset(self.auto)
        if not auto <= AUTO_LEVELS:
            raise PatternError(f"auto must name density and/or intensity, got {sorted(auto)}")
        object.__setattr__(self, "auto", auto)

    def level(self, name: str, sep: str = ":") -> str:
        """What a screen or a file shows: 'high', or 'auto' and the drawn level 'auto:high'."""
        value = getattr(self, name)
        return f"{AUTO}{sep}{value}" if name in self.auto else value

    def with_level(self, name: str, value: str) -> GroupParams:
        """Pin a level ('low', 'mid', 'high') or make it auto ('auto')."""
        if name not in AUTO_LEVELS:
            raise PatternError(f"only density and intensity have levels, got {name!r}")
        if value == AUTO:
            return replace(self, auto=self.auto | {name})
        if value not in LEVELS:
            raise PatternError(f"{name} must be one of {AUTO}, {', '.join(LEVELS)}, got {value!r}")
        return replace(self, auto=self.auto - {name}, **{name: value})


def _default_params() -> tuple[GroupParams, ...]:
    """A new pattern's groups: density and intensity auto, drawn as drummers play."""
    return tuple(GroupParams(auto=AUTO_LEVELS) for _g in GROUPS)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A 2-bar, 12-track pattern. Events are kept sorted by (step, track), one per cell."""

    events: tuple[Event, ...] = ()
    params: tuple[GroupParams, ...] = field(default_factory=_default_params)
    tempo: float = 120.0  # BPM, 20..300
    swing: float = 50.0  # percent, 50 (straight) .. 75
    name: str = ""
    own_tempo: bool = False  # plays at its own tempo; False: at the bank's (global) tempo
    # conditional trigs ((step, track), Condition), sorted; only on cells with a hit
    conditions: tuple[tuple[tuple[int, int], Condition], ...] = ()
    phrase: int = 0  # how the slot plays: a fill every `phrase` bars (0: off) ...
    vary: float = 0.0  # ... and the hats varied this much between fills (0: off)

    def __post_init__(self) -> None:
        events = tuple(sorted(self.events, key=_CELL))
        if len(set(map(_CELL, events))) != len(events):
            for a, b in zip(events, events[1:], strict=False):
                if _CELL(a) == _CELL(b):
                    raise PatternError(f"two events on step {a.step} of track {a.track}")
        object.__setattr__(self, "events", events)
        params = tuple(self.params)
        if len(params) != len(GROUPS):
            raise PatternError(f"params must have {len(GROUPS)} groups, got {len(params)}")
        object.__setattr__(self, "params", params)
        if not MIN_TEMPO <= float(self.tempo) <= MAX_TEMPO:
            raise PatternError(
                f"tempo must be in {MIN_TEMPO:g}..{MAX_TEMPO:g} BPM, got {self.tempo}"
            )
        if not MIN_SWING <= float(self.swing) <= MAX_SWING:
            raise PatternError(f"swing must be in {MIN_SWING:g}..{MAX_SWING:g} %, got {self.swing}")
        if not isinstance(self.own_tempo, bool):
            raise PatternError(f"own_tempo must be true or false, got {self.own_tempo!r}")
        if self.conditions:
            try:
                conds = check_conditions(self.conditions)
            except ConditionError as exc:
                raise PatternError(str(exc)) from None
            cells = {(e.step, e.track) for e in events}
            object.__setattr__(self, "conditions", tuple(c for c in conds if c[0] in cells))
        if self.phrase not in PHRASES:
            raise PatternError(f"phrase must be one of {', '.join(map(str, PHRASES))} bars, "
                               f"got {self.phrase!r}")
        if isinstance(self.vary, bool) or not isinstance(self.vary, int | float) \
                or not 0.0 <= self.vary <= 1.0:
            raise PatternError(f"vary must be in 0..1, got {self.vary!r}")

    # --- reading -----------------------------------------------------------------

    def group_events(self, group: int) -> tuple[Event, ...]:
        """The events of one group (1..4), in time order."""
        _check_range("group", group, 1, len(GROUPS))
        return tuple(e for e in self.events if e.group == group)

    def track_events(self, track: int) -> tuple[Event, ...]:
        _check_range("track", track, 1, len(TRACKS))
        return tuple(e for e in self.events if e.track == track)

    def at(self, step: int, track: int) -> Event | None:
        """The event on a cell, or None."""
        for e in self.events:
            if e.step == step and e.track == track:
                return e
        return None

    def group_params(self, group: int) -> GroupParams:
        _check_range("group", group, 1, len(GROUPS))
        return self.params[group - 1]

    def is_empty(self) -> bool:
        return not self.events

    def cond_at(self, step: int, track: int) -> Condition | None:
        """The condition on a cell, or None."""
        for cell, cond in self.conditions:
            if cell == (step, track):
                return cond
        return None

    # --- editing: every method returns a new Pattern ------------------------------

    def with_events(self, events: Iterable[Event]) -> Pattern:
        return replace(self, events=tuple(events))

    def with_group(
        self, group: int, events: Iterable[Event], params: GroupParams | None = None
    ) -> Pattern:
        """Replace one group's events (and, if given, its generation facts)."""
        _check_range("group", group, 1, len(GROUPS))
        new = tuple(events)
        for e in new:
            if e.group != group:
                raise PatternError(f"track {e.track} is not in group {group}")
        kept = tuple(e for e in self.events if e.group != group)
        all_params = self.params
        if params is not None:
            all_params = self.params[: group - 1] + (params,) + self.params[group:]
        return replace(self, events=kept + new, params=all_params)

    def with_params(self, group: int, params: GroupParams) -> Pattern:
        _check_range("group", group, 1, len(GROUPS))
        return replace(self, params=self.params[: group - 1] + (params,) + self.params[group:])

    def with_event(self, event: Event) -> Pattern:
        """Set a cell (replacing what was there)."""
        kept = tuple(e for e in self.events if (e.step, e.track) != (event.step, event.track))
        return replace(self, events=kept + (event,))

    def without_event(self, step: int, track: int) -> Pattern:
        return replace(
            self, events=tuple(e for e in self.events if (e.step, e.track) != (step, track))
        )

    def with_track(self, track: int, events: Iterable[Event]) -> Pattern:
        """Replace one track's events."""
        new = tuple(events)
        for e in new:
            if e.track != track:
                raise PatternError(f"event on track {e.track} given for track {track}")
        return replace(self, events=tuple(e for e in self.events if e.track != track) + new)

    def with_condition(self, step: int, track: int, cond: Condition | None) -> Pattern:
        """Set (or with None clear) the condition of a cell that holds a hit."""
        if cond is not None and self.at(step, track) is None:
            raise PatternError(f"no hit on step {step + 1} of track {track} to put a condition on")
        kept = tuple(c for c in self.conditions if c[0] != (step, track))
        return replace(self, conditions=kept + ((((step, track), cond),) if cond else ()))

    def with_tempo(self, tempo: float) -> Pattern:
        return replace(self, tempo=float(tempo))

    def with_swing(self, swing: float) -> Pattern:
        return replace(self, swing=float(swing))

    def with_name(self, name: str) -> Pattern:
        return replace(self, name=name)

    def with_own_tempo(self, own: bool) -> Pattern:
        return replace(self, own_tempo=own)
