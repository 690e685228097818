"""MIDI files <-> patterns.

Reading: any Standard MIDI File with drums (type 0 or 1, any ticks per beat,
tempo changes) becomes a Performance: its drum notes in ticks, with the tempo map
to turn ticks into seconds. ``windows`` cuts it into 2-bar patterns on the grid,
each note on its nearest step with the rest as an offset (ticks of 1/96 step),
mapped onto the 12 tracks through a note map (General MIDI and Roland TD-11).

Writing: patterns -> a type-1 file (tempo track + drum track) through a kit map,
one 2-bar pattern after another, swing applied as it is heard.

Every failure comes out as CodecError naming the file and the reason.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mido

from codec.errors import CodecError
from patterns.grid import (
    GATE_TICKS,
    MIN_OFFSET,
    STEPS,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    TICKS_PER_BEAT,
    TICKS_PER_STEP,
    swing_ticks,
)
from patterns.kit import KitMap
from patterns.pattern import Event, GroupParams, Pattern

DRUM_CHANNEL = 9  # channel 10, as mido counts
EXPORT_TICKS_PER_BEAT = 1920  # a multiple of the grid's 384: offsets export exactly

# MIDI note -> track. General MIDI drum notes, the default for any file: the
# default kit's 12 notes read back onto their own tracks.
GM_NOTE_MAP: Mapping[int, int] = {
    35: 1, 36: 1,                      # acoustic / bass drum -> kick
    37: 2,                             # side stick -> rimshot
    38: 3, 40: 3,                      # acoustic / electric snare
    39: 4,                             # hand clap
    42: 5,                             # closed hat
    44: 6,                             # pedal hat
    46: 7,                             # open hat
    41: 8, 43: 8, 45: 8,               # low floor, high floor, low tom -> low tom
    47: 9, 48: 9,                      # low-mid, hi-mid tom -> mid tom
    50: 10,                            # high tom
    49: 11, 57: 11, 55: 11, 52: 11,    # crash 1 and 2, splash, china -> crash
    51: 12, 59: 12, 53: 12,            # ride 1 and 2, ride bell -> ride
}  # fmt: skip

# The Roland TD-11 notes of the Groove MIDI Dataset (../shared/data/README.md):
# where they differ from General MIDI, the kit's own layout wins.
TD11_NOTE_MAP: Mapping[int, int] = {
    **GM_NOTE_MAP,
    22: 5,                             # closed hat edge
    26: 7,                             # open hat edge
    43: 8, 58: 8,                      # floor tom head / rim -> low tom
    45: 9, 47: 9,                      # tom 2 head / rim -> mid tom
    48: 10, 50: 10,                    # tom 1 head / rim -> high tom
}  # fmt: skip

NOTE_MAP = GM_NOTE_MAP


@dataclass(frozen=True, slots=True)
class Note:
    tick: int
    note: int
    velocity: int


@dataclass
class Performance:
    """The drum notes of a MIDI file, in its own ticks, with its tempo map."""

    source: str
    ticks_per_beat: int
    notes: list[Note]
    tempos: list[tuple[int, int]]  # (tick, microseconds per beat), sorted, first at tick 0
    time_signatures: list[tuple[int, int, int]]  # (tick, numerator, denominator)
    length_ticks: int
    _tempo_ticks: list[int] = field(init=False, repr=False)
    _tempo_seconds: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tempo_ticks = [t for t, _ in self.tempos]
        seconds = [0.0]
        for (t0, us), (t1, _) in zip(self.tempos, self.tempos[1:], strict=False):
            seconds.append(seconds[-1] + (t1 - t0) * us / 1e6 / self.ticks_per_beat)
        self._tempo_seconds = seconds

    def seconds(self, tick: float) -> float:
        """Seconds from the start of the file to a (fractional) tick."""
        i = max(0, bisect.bisect_right(self._tempo_ticks, tick) - 1)
        t0, us = self.tempos[i]
        return self._tempo_seconds[i] + (tick - t0) * us / 1e6 / self.ticks_per_beat

    def bpm_at(self, tick: float) -> float:
        i = max(0, bisect.bisect_right(self._tempo_ticks, tick) - 1)
        return 60e6 / self.tempos[i][1]

    def is_four_four(self) -> bool:
        return all((num, den) == (4, 4) for _, num, den in self.time_signatures)

    def grid_ticks(self, tick: int) -> int:
        """A file tick on the grid's 384-per-beat scale, rounded."""
        return round(tick * TICKS_PER_BEAT / self.ticks_per_beat)

    def file_ticks(self, grid_ticks: float) -> float:
        return grid_ticks * self.ticks_per_beat / TICKS_PER_BEAT


def _open(source: str | Path | bytes) -> tuple[mido.MidiFile, str]:
    if isinstance(source, bytes | bytearray):
        name = "<bytes>"
        data = bytes(source)
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise CodecError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if data[:4] != b"MThd":
        raise CodecError(f"{name}: not a MIDI file (no MThd header)")
    try:
        midi = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except EOFError:
        raise CodecError(f"{name}: truncated MIDI file") from None
    except Exception as exc:  # mido raises many types on corrupt files
        raise CodecError(f"{name}: corrupt MIDI file: {exc}") from None
    return midi, name


def read_midi(source: str | Path | bytes, note_map: Mapping[int, int] = NOTE_MAP) -> Performance:
    """Read the drum notes of a Standard MIDI File (type 0 or 1)."""
    midi, name = _open(source)
    if midi.type == 2:
        raise CodecError(f"{name}: type 2 MIDI files (independent songs) are not supported")
    tpb = midi.ticks_per_beat
    if not isinstance(tpb, int) or tpb <= 0:
        raise CodecError(f"{name}: SMPTE time division is not supported")
    notes_by_channel: dict[int, list[Note]] = {}
    tempos: dict[int, int] = {}
    signatures: list[tuple[int, int, int]] = []
    length = 0
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0 and msg.note in note_map:
                notes_by_channel.setdefault(msg.channel, []).append(
                    Note(tick, msg.note, msg.velocity)
                )
            elif msg.type == "set_tempo" and msg.tempo > 0:
                tempos[tick] = msg.tempo
            elif msg.type == "time_signature":
                signatures.append((tick, msg.numerator, msg.denominator))
        length = max(length, tick)
    if DRUM_CHANNEL in notes_by_channel:
        notes = notes_by_channel[DRUM_CHANNEL]
    else:
        notes = [n for ns in notes_by_channel.values() for n in ns]
    if not notes:
        raise CodecError(f"{name}: no drum notes")
    notes.sort(key=lambda n: (n.tick, n.note))
    tempo_list = sorted(tempos.items())
    if not tempo_list or tempo_list[0][0] != 0:
        tempo_list.insert(0, (0, 500000))  # MIDI's default: 120 BPM until a tempo event
    signatures.sort()
    return Performance(name, tpb, notes, tempo_list, signatures, max(length, notes[-1].tick))


@dataclass(frozen=True, slots=True)
class Window:
    """A 2-bar window of a performance on the grid."""

    bar: int  # the window's first bar in the file
    pattern: Pattern
    sources: tuple[tuple[Event, Note], ...]  # each kept event and the note it came from
    merged: int  # notes that fell on a cell already taken (the loudest is kept)
    unmapped: int = 0


def windows(
    perf: Performance,
    note_map: Mapping[int, int] = NOTE_MAP,
    bars: int = STEPS // STEPS_PER_BAR,
    hop_bars: int = 1,
    params: Sequence[GroupParams] | None = None,
    keep_empty: bool = False,
) -> list[Window]:
    """Cut a performance into windows of `bars` bars every `hop_bars` bars."""
    placed: list[tuple[int, int, int, Note]] = []  # (global step, offset, track, note)
    for note in perf.notes:
        track = note_map.get(note.note)
        if track is None:
            continue
        g = perf.grid_ticks(note.tick)
        step = (g - MIN_OFFSET) // TICKS_PER_STEP
        placed.append((step, g - step * TICKS_PER_STEP, track, note))
    if not placed:
        return []
    window_steps = bars * STEPS_PER_BAR
    bar_ticks = STEPS_PER_BAR * TICKS_PER_STEP
    last_step = max(p[0] for p in placed)
    total_bars = last_step // STEPS_PER_BAR + 1
    if keep_empty:  # importing: the file's own length counts (trailing empty patterns)
        total_bars = max(total_bars, -(-perf.grid_ticks(perf.length_ticks) // bar_ticks))
    steps_sorted = [p[0] for p in placed]  # notes are in tick order, so steps are sorted
    result = []
    # window starts every hop_bars bars, the last one reaching the last bar
    for bar in range(0, max(1, total_bars - bars + hop_bars), hop_bars):
        first = bar * STEPS_PER_BAR
        lo = bisect.bisect_left(steps_sorted, first)
        cells: dict[tuple[int, int], tuple[Event, Note]] = {}
        merged = 0
        for step, offset, track, note in placed[lo:]:
            if step >= first + window_steps:
                break
            if step < first:
                continue
            key = (step - first, track)
            event = Event(step - first, track, offset, note.velocity)
            if key in cells:
                merged += 1
                if cells[key][0].velocity >= note.velocity:
                    continue
            cells[key] = (event, note)
        if not cells and not keep_empty:
            continue
        tempo = min(300.0, max(20.0, perf.bpm_at(perf.file_ticks(first * TICKS_PER_STEP))))
        pattern = Pattern(
            events=tuple(e for e, _ in cells.values()),
            params=tuple(params) if params else Pattern().params,
            tempo=round(tempo, 3),
        )
        result.append(Window(bar, pattern, tuple(cells.values()), merged))
    return result


def event_seconds(perf: Performance, bar: int, event: Event) -> float:
    """When an event of a window at `bar` sounds, in the performance's seconds."""
    g = (bar * STEPS_PER_BAR + event.step) * TICKS_PER_STEP + event.offset
    return perf.seconds(perf.file_ticks(g))


def midi_to_patterns(
    source: str | Path | bytes, note_map: Mapping[int, int] = NOTE_MAP, hop_bars: int = 2
) -> list[Pattern]:
    """Every 2-bar window of a file (back to back by default), for import into slots."""
    perf = read_midi(source, note_map)
    return [w.pattern for w in windows(perf, note_map, hop_bars=hop_bars, keep_empty=True)]


def midi_to_pattern(source: str | Path | bytes, note_map: Mapping[int, int] = NOTE_MAP) -> Pattern:
    """The first 2 bars of a file as a pattern."""
    return midi_to_patterns(source, note_map)[0]


# --- writing ------------------------------------------------------------------------


def patterns_to_midi(
    patterns: Iterable[Pattern],
    kit: KitMap | None = None,
    apply_swing: bool = True,
    name: str = "AutoBeat",
) -> mido.MidiFile:
    """A type-1 file: a tempo track and a drum track, the patterns one after another."""
    kit = kit or KitMap.general_midi()
    scale = EXPORT_TICKS_PER_BEAT // TICKS_PER_BEAT
    tempo_track = mido.MidiTrack()
    tempo_track.append(mido.MetaMessage("track_name", name=name, time=0))
    tempo_track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    drum_track = mido.MidiTrack()
    drum_track.append(mido.MetaMessage("track_name", name="Drums", time=0))
    timed: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)
    tempo_events: list[tuple[int, float]] = []
    start = 0
    last_tempo = None
    for pattern in patterns:
        if pattern.tempo != last_tempo:
            tempo_events.append((start, pattern.tempo))
            last_tempo = pattern.tempo
        for e in pattern.events:
            swing = swing_ticks(e.step, pattern.swing) if apply_swing else 0
            tick = max(0, (start + e.step * TICKS_PER_STEP + e.offset + swing) * scale)
            channel = kit.channel(e.track) - 1
            note = kit.note(e.track)
            timed.append((tick, 1, mido.Message("note_on", channel=channel, note=note,
                                                velocity=e.velocity)))
            timed.append((tick + GATE_TICKS * scale, 0,
                          mido.Message("note_off", channel=channel, note=note, velocity=0)))
        start += STEPS * TICKS_PER_STEP
    if not tempo_events:
        tempo_events.append((0, 120.0))
    now = 0
    for tick, bpm in tempo_events:
        tick *= scale
        tempo_track.append(
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=tick - now)
        )
        now = tick
    tempo_track.append(mido.MetaMessage("end_of_track", time=max(0, start * scale - now)))
    now = 0
    timed.sort(key=lambda x: (x[0], x[1]))
    for tick, _, msg in timed:
        drum_track.append(msg.copy(time=tick - now))
        now = tick
    drum_track.append(mido.MetaMessage("end_of_track", time=max(0, start * scale - now)))
    midi = mido.MidiFile(type=1, ticks_per_beat=EXPORT_TICKS_PER_BEAT)
    midi.tracks.extend([tempo_track, drum_track])
    return midi


def kit_note_map(kit: KitMap) -> dict[int, int]:
    """A note map that reads a file written with `kit` back onto the same tracks."""
    mapping = dict(NOTE_MAP)
    for track in range(1, 13):
        mapping[kit.note(track)] = track
    return mapping


def write_midi(
    path: str | Path, patterns: Iterable[Pattern], kit: KitMap | None = None, **kwargs
) -> Path:
    path = Path(path)
    midi = patterns_to_midi(patterns, kit, **kwargs)
    try:
        midi.save(str(path))
    except OSError as exc:
        raise CodecError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


__all__ = [
    "EXPORT_TICKS_PER_BEAT",
    "GM_NOTE_MAP",
    "TD11_NOTE_MAP",
    "NOTE_MAP",
    "Note",
    "Performance",
    "STEPS_PER_BEAT",
    "Window",
    "event_seconds",
    "kit_note_map",
    "midi_to_pattern",
    "midi_to_patterns",
    "patterns_to_midi",
    "read_midi",
    "windows",
    "write_midi",
]
