"""The engine's protocol: commands in (owner -> engine), reports out (engine -> owner).

Small frozen dataclasses, picklable, sent over a multiprocessing pipe. The engine
never reads UI state: everything it knows comes through these commands. High-rate
reports (EngineState) replace the older queued one instead of piling up
(``can_replace``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from patterns.kit import KitMap
from patterns.pattern import Event, Pattern

# --- commands ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetPattern:
    """Play this pattern from the next bar line (at="bar") or at once (at="now")."""

    pattern: Pattern
    at: str = "bar"  # "bar" | "now"


@dataclass(frozen=True, slots=True)
class SwapGroup:
    """Replace one group's events (1..4) of the playing pattern at the next bar (or now)."""

    group: int
    events: tuple[Event, ...]
    at: str = "bar"


@dataclass(frozen=True, slots=True)
class Transport:
    action: str  # "start" (from the top) | "stop" (all notes off) | "continue"


@dataclass(frozen=True, slots=True)
class SetTempo:
    bpm: float  # 20..300; takes effect without a jump in phase


@dataclass(frozen=True, slots=True)
class SetSwing:
    percent: float  # 50..75


@dataclass(frozen=True, slots=True)
class SetMute:
    track: int  # 1..12
    muted: bool


@dataclass(frozen=True, slots=True)
class SetSolo:
    track: int  # 1..12
    soloed: bool


@dataclass(frozen=True, slots=True)
class SetClock:
    mode: str  # "internal" | "external" | "link" (Ableton Link)
    clock_in: str | None = None  # input port name fragment, for external
    send_clock: bool = False  # as master: send MIDI clock, Start/Stop/Continue, SPP


@dataclass(frozen=True, slots=True)
class SetOutput:
    name: str | None  # output port name fragment; None: the default (virtual or none);
    # "audio" (the sound card), "audio+NAME" (both)
    latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class SetLatency:
    """Send this many ms earlier (gear with its own delay) or later (< 0); -100..100."""

    ms: float


@dataclass(frozen=True, slots=True)
class SetKit:
    """Which note and channel each track plays (a patterns.kit.KitMap)."""

    kit: KitMap


@dataclass(frozen=True, slots=True)
class PlayOnce:
    """Play bar ``bar`` (0 or 1) of ``pattern`` once, in song bar ``at_bar`` (None: the
    next bar line; a bar already begun: the next one), instead of the groove's bar.

    A fill (``fill``) makes FILL conditions true for that bar and lets the groove's
    FILL hits play through it; ``crash`` adds a crash on the 1 after it (unless the
    groove has one there). The groove comes back at the bar after.
    """

    pattern: Pattern
    bar: int
    fill: bool = True
    crash: bool = True
    at_bar: int | None = None


@dataclass(frozen=True, slots=True)
class CancelOnce:
    """Forget the one-bar alternatives (PlayOnce) not yet begun."""


@dataclass(frozen=True, slots=True)
class SetTrigSeed:
    """The seed that plays probability conditions out (the same seed, the same playback)."""

    seed: int


@dataclass(frozen=True, slots=True)
class RequestTiming:
    """Ask for a TimingReport (the benchmark's measurements; needs record=True)."""


@dataclass(frozen=True, slots=True)
class RequestAudioStats:
    """Ask for the audio output's engine.audio.AudioStats (or a CommandError if none)."""


@dataclass(frozen=True, slots=True)
class Shutdown:
    pass


Command = (
    SetPattern | SwapGroup | Transport | SetTempo | SetSwing | SetMute | SetSolo | SetClock
    | SetOutput | SetLatency | SetKit | PlayOnce | CancelOnce | SetTrigSeed | RequestTiming
    | RequestAudioStats | Shutdown
)

# --- reports ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockInfo:
    """Where the tempo comes from and how well it holds (refreshed once a second)."""

    source: str = "internal"  # "internal" | "midi" | "link"
    port: str = ""  # the MIDI input followed
    tempo: float = 120.0  # measured when following
    jitter_ms: float | None = None  # SD of the incoming tick intervals
    locked: bool = True
    locked_for_s: int = 0  # how long the lock has held
    peers: int | None = None  # Link: the other peers in the session
    offset_ms: float | None = None  # our beat minus the source's (+: ahead), the last second
    drift_ms: float | None = None  # how far that offset moved ...
    drift_span_s: int = 0  # ... over this many seconds (up to a minute)
    sending: bool = False  # we send MIDI clock (as master on our own clock or Link's)


@dataclass(frozen=True, slots=True)
class EngineState:
    """The engine's state, at most 60 a second; the newest replaces older ones."""

    playing: bool = False
    step: int = 0  # 0..31, the step now sounding
    bar: int = 0  # bars played since Start
    tempo: float = 120.0  # the tempo in use (the estimate when following)
    clock: str = "internal"  # "internal" | "external" | "link"
    locked: bool = True  # following: locked to the incoming clock
    clock_lost: bool = False  # following: no tick for 200 ms
    clock_problem: str = ""  # following: what is wrong with the clock input ("": nothing)
    output: str = "none"  # the output port's name, or "none"
    pending: bool = False  # a pattern or group waits for the next bar line
    late_events: int = 0  # events sent more than 1 ms after their due time
    mutes: frozenset[int] = field(default_factory=frozenset)
    solos: frozenset[int] = field(default_factory=frozenset)
    clock_info: ClockInfo = field(default_factory=ClockInfo)
    fill: str = ""  # "" | "waiting" (a fill is queued for a later bar) | "playing"
    fill_bar: int = -1  # the song bar of the fill waiting or playing
    once_late: int = 0  # PlayOnce that came after their bar had begun (played a bar later)

    can_replace = True


@dataclass(frozen=True, slots=True)
class PortError:
    """A port could not be opened, or went away (the engine keeps time and retries)."""

    message: str
    can_replace = False


@dataclass(frozen=True, slots=True)
class AudioProblem:
    """The sound card output could not open (no device) or failed; MIDI plays on."""

    message: str
    can_replace = False


@dataclass(frozen=True, slots=True)
class PatternSwapped:
    """The pattern (or a group) queued for the bar line is now playing."""

    bar: int
    can_replace = False


@dataclass(frozen=True, slots=True)
class ClockProblem:
    """What is wrong with the clock being followed ("" once it is fine again)."""

    message: str
    can_replace = False


@dataclass(frozen=True, slots=True)
class CommandError:
    """A command the engine could not apply (a value out of range); nothing changed."""

    message: str
    can_replace = False


@dataclass(frozen=True, slots=True)
class TimingReport:
    """Measurements for `autobeat bench timing` (seconds, on the engine's clock)."""

    lateness: tuple[float, ...]  # send time minus due time of every note-on
    clock_sent: tuple[float, ...]  # send times of the clock ticks (as master)
    start_time: float  # when song tick 0 was due
    last_due: float  # the last note-on's due time ...
    last_sent: float  # ... when it was sent ...
    last_tick: int  # ... and its song tick
    bpm: float
    realtime: str  # how the engine process is scheduled ("SCHED_FIFO 70", "nice -10", ...)
    tempo_trace: tuple[float, ...] = ()  # following: the tempo estimate after each tick
    clock_received: tuple[float, ...] = ()  # following: arrival time of every clock tick
    # where lateness comes from (engine.player.Timing): when the loop got to each
    # note-on / clock tick, how late the OS ended each timed sleep, and the time the
    # OS kept the engine from running while it spun and sent each note-on / tick
    note_arrival: tuple[float, ...] = ()
    clock_arrival: tuple[float, ...] = ()
    wake_late: tuple[float, ...] = ()
    note_stalled: tuple[float, ...] = ()
    clock_stalled: tuple[float, ...] = ()
    output_lead: float = 0.0  # how early the engine sends to its output (engine/process.py)
    can_replace = False


Report = (
    EngineState | PortError | AudioProblem | PatternSwapped | ClockProblem | CommandError
    | TimingReport
)
