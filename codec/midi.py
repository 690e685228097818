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
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mido

from codec.errors import CodecError
from patterns.files import FileError, atomic_file, check_overwrite, read_user_file
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


def _source_bytes(source: str | Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), "<bytes>"
    name = str(source)
    try:
        data = read_user_file(source, "MIDI file")
    except FileError as exc:
        raise CodecError(str(exc)) from None
    return data, name


_SYSTEM_LENGTH = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xF9: 0, 0xFA: 0, 0xFB: 0,
                  0xFC: 0, 0xFD: 0, 0xFE: 0}


class _Truncated(Exception):
    pass


def _vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(8):  # the standard allows 4 bytes; longer ones are read as mido does
        if pos >= end:
            raise _Truncated
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, pos
    raise CodecError("a variable-length number longer than 8 bytes")


class _Scan:
    """What read_midi collects from the tracks."""

    def __init__(self, note_map: Mapping[int, int], max_tick: int | None) -> None:
        self.note_map = note_map
        self.max_tick = max_tick
        self.notes_by_channel: dict[int, list[Note]] = {}
        self.tempos: dict[int, int] = {}
        self.signatures: list[tuple[int, int, int]] = []
        self.length = 0
        self.duplicates = 0  # notes struck again on the same tick (merged into one)

    def track(self, data: bytes, pos: int, end: int) -> None:
        """One MTrk chunk's events; stops at max_tick (the rest is not needed)."""
        note_map = self.note_map
        by_channel = self.notes_by_channel
        max_tick = self.max_tick if self.max_tick is not None else float("inf")
        tick = 0
        status = 0
        last: dict[int, tuple[int, int]] = {}  # (status, note) -> (index, tick) of its latest
        last_get = last.get
        while pos < end:
            b = data[pos]
            if b < 0x80:  # the common one-byte delta
                pos += 1
                tick += b
            else:
                delta, pos = _vlq(data, pos, end)
                tick += delta
            if tick > max_tick:
                break
            if pos >= end:
                raise _Truncated
            b = data[pos]
            if b >= 0x80:
                pos += 1
                if b < 0xF0:
                    status = b
                elif b == 0xFF:  # meta: type, length, data
                    if pos >= end:
                        raise _Truncated
                    kind = data[pos]
                    length, pos = _vlq(data, pos + 1, end)
                    if pos + length > end:
                        raise _Truncated
                    body = data[pos : pos + length]
                    pos += length
                    if kind == 0x51 and length == 3:
                        tempo = int.from_bytes(body, "big")
                        if tempo > 0:
                            self.tempos[tick] = tempo
                    elif kind == 0x58 and length >= 2:
                        self.signatures.append((tick, body[0], 2 ** min(body[1], 16)))
                    elif kind == 0x2F:
                        break
                    continue
                elif b in (0xF0, 0xF7):  # sysex: length, data
                    length, pos = _vlq(data, pos, end)
                    pos += length
                    if pos > end:
                        raise _Truncated
                    continue
                elif b in _SYSTEM_LENGTH:  # system common / realtime bytes: skipped
                    pos += _SYSTEM_LENGTH[b]
                    if pos > end:
                        raise _Truncated
                    continue
                else:
                    raise CodecError(f"undefined status 0x{b:02X} inside a track")
            elif status == 0:
                raise CodecError("a data byte with no status before it")
            kind = status & 0xF0
            if kind in (0xC0, 0xD0):
                pos += 1
                if pos > end:
                    raise _Truncated
                continue
            if pos + 2 > end:
                raise _Truncated
            if kind == 0x90:
                note = data[pos]
                velocity = data[pos + 1]
                if velocity and note in note_map:
                    channel = status & 0x0F
                    notes = by_channel.get(channel)
                    if notes is None:
                        notes = by_channel[channel] = []
                    key = (status << 8) | note
                    prev = last_get(key)
                    if prev is not None and prev[1] == tick:
                        # the same drum struck twice at once: one note, the louder
                        self.duplicates += 1
                        at = prev[0]
                        if velocity > notes[at].velocity:
                            notes[at] = Note(tick, note, min(velocity, 127))
                    else:
                        last[key] = (len(notes), tick)
                        notes.append(Note(tick, note, min(velocity, 127)))
            pos += 2
        self.length = max(self.length, int(min(tick, max_tick)))


def _chunks(data: bytes, name: str) -> tuple[int, int, list[tuple[int, int]]]:
    """(type, division, [(start, end) of each MTrk]) of a Standard MIDI File."""
    if data[:4] != b"MThd":
        raise CodecError(f"{name}: not a MIDI file (no MThd header)")
    if len(data) < 14:
        raise CodecError(f"{name}: truncated MIDI file")
    header_length = int.from_bytes(data[4:8], "big")
    if header_length < 6:
        raise CodecError(f"{name}: corrupt MIDI file: header of {header_length} bytes")
    kind = int.from_bytes(data[8:10], "big")
    count = int.from_bytes(data[10:12], "big")
    division = int.from_bytes(data[12:14], "big")
    if kind > 2:
        raise CodecError(f"{name}: corrupt MIDI file: unknown type {kind}")
    pos = 8 + header_length
    tracks = []
    while len(tracks) < count and pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "big")
        body = pos + 8
        if body + size > len(data):
            raise CodecError(f"{name}: truncated MIDI file")
        if data[pos : pos + 4] == b"MTrk":
            tracks.append((body, body + size))
        pos = body + size  # other chunk kinds are skipped, as the standard asks
    if len(tracks) < count:
        raise CodecError(f"{name}: truncated MIDI file")
    return kind, division, tracks


def read_midi(
    source: str | Path | bytes,
    note_map: Mapping[int, int] = NOTE_MAP,
    max_beats: int | None = None,
) -> Performance:
    """Read the drum notes of a Standard MIDI File (type 0 or 1).

    With ``max_beats``, each track is read only that far (a file's first bars are
    found without reading the rest). The reader is this module's own, linear in the
    file's size and keeping only drum notes, so a huge file costs only its notes.
    """
    data, name = _source_bytes(source)
    kind, tpb, tracks = _chunks(data, name)
    if kind == 2:
        raise CodecError(f"{name}: type 2 MIDI files (independent songs) are not supported")
    if tpb & 0x8000:
        raise CodecError(f"{name}: SMPTE time division is not supported")
    if tpb <= 0:
        raise CodecError(f"{name}: corrupt MIDI file: 0 ticks per beat")
    scan = _Scan(note_map, None if max_beats is None else max_beats * tpb)
    try:
        for start, end in tracks:
            scan.track(data, start, end)
    except _Truncated:
        raise CodecError(f"{name}: truncated MIDI file") from None
    except CodecError as exc:
        raise CodecError(f"{name}: corrupt MIDI file: {exc}") from None
    notes_by_channel = scan.notes_by_channel
    if DRUM_CHANNEL in notes_by_channel:
        notes = notes_by_channel[DRUM_CHANNEL]
    else:
        notes = [n for ns in notes_by_channel.values() for n in ns]
    if not notes:
        raise CodecError(f"{name}: no drum notes")
    notes.sort(key=lambda n: (n.tick, n.note))  # near-linear on a track's sorted runs
    if len(notes_by_channel) > 1 and DRUM_CHANNEL not in notes_by_channel:
        # channels pooled: a drum struck at once on two of them is one note, the louder
        merged: list[Note] = []
        for n in notes:
            if merged and (merged[-1].tick, merged[-1].note) == (n.tick, n.note):
                if n.velocity > merged[-1].velocity:
                    merged[-1] = n
            else:
                merged.append(n)
        notes = merged
    tempo_list = sorted(scan.tempos.items())
    if not tempo_list or tempo_list[0][0] != 0:
        tempo_list.insert(0, (0, 500000))  # MIDI's default: 120 BPM until a tempo event
    scan.signatures.sort()
    return Performance(name, tpb, notes, tempo_list, scan.signatures,
                       max(scan.length, notes[-1].tick))


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
    """Cut a performance into windows of `bars` bars every `hop_bars` bars (all of them)."""
    return list(iter_windows(perf, note_map, bars, hop_bars, params, keep_empty))


def iter_windows(
    perf: Performance,
    note_map: Mapping[int, int] = NOTE_MAP,
    bars: int = STEPS // STEPS_PER_BAR,
    hop_bars: int = 1,
    params: Sequence[GroupParams] | None = None,
    keep_empty: bool = False,
) -> Iterator[Window]:
    """The windows of ``windows``, made one at a time as they are asked for.

    Linear in the notes: one pass places them on the grid, a pointer walks them once,
    and each window looks only at its own notes. Without ``keep_empty`` an empty
    stretch is jumped over at once, however long; with it, each empty window costs
    only when it is asked for.
    """
    placed: list[tuple[int, int, int, Note]] = []  # (global step, offset, track, note)
    for note in perf.notes:
        track = note_map.get(note.note)
        if track is None:
            continue
        g = perf.grid_ticks(note.tick)
        step = (g - MIN_OFFSET) // TICKS_PER_STEP
        placed.append((step, g - step * TICKS_PER_STEP, track, note))
    if not placed:
        return
    window_steps = bars * STEPS_PER_BAR
    bar_ticks = STEPS_PER_BAR * TICKS_PER_STEP
    count = len(placed)
    last_step = placed[-1][0]  # notes are in tick order, so steps are sorted
    total_bars = last_step // STEPS_PER_BAR + 1
    if keep_empty:  # importing: the file's own length counts (trailing empty patterns)
        total_bars = max(total_bars, -(-perf.grid_ticks(perf.length_ticks) // bar_ticks))
    pattern_params = tuple(params) if params else Pattern().params
    # window starts every hop_bars bars, the last one reaching the last bar
    stop = max(1, total_bars - bars + hop_bars)
    lo = 0  # the first placed note at or after the window's first step
    bar = 0
    while bar < stop:
        first = bar * STEPS_PER_BAR
        while lo < count and placed[lo][0] < first:
            lo += 1
        if not keep_empty and (lo == count or placed[lo][0] >= first + window_steps):
            if lo == count:
                return
            # the first window start (on the hop) whose window holds the next note
            need = (placed[lo][0] - window_steps) // STEPS_PER_BAR + 1
            bar = max(bar + hop_bars, -(-need // hop_bars) * hop_bars)
            continue
        cells: dict[tuple[int, int], tuple[Event, Note]] = {}
        merged = 0
        i = lo
        end = first + window_steps
        while i < count:
            step, offset, track, note = placed[i]
            if step >= end:
                break
            i += 1
            key = (step - first, track)
            if key in cells:
                merged += 1
                if cells[key][0].velocity >= note.velocity:
                    continue
            cells[key] = (Event(step - first, track, offset, note.velocity), note)
        tempo = min(300.0, max(20.0, perf.bpm_at(perf.file_ticks(first * TICKS_PER_STEP))))
        pattern = Pattern(
            events=tuple(e for e, _ in cells.values()),
            params=pattern_params,
            tempo=round(tempo, 3),
        )
        yield Window(bar, pattern, tuple(cells.values()), merged)
        bar += hop_bars


def event_seconds(perf: Performance, bar: int, event: Event) -> float:
    """When an event of a window at `bar` sounds, in the performance's seconds."""
    g = (bar * STEPS_PER_BAR + event.step) * TICKS_PER_STEP + event.offset
    return perf.seconds(perf.file_ticks(g))


def midi_to_patterns(
    source: str | Path | bytes,
    note_map: Mapping[int, int] = NOTE_MAP,
    hop_bars: int = 2,
    limit: int | None = None,
) -> list[Pattern]:
    """Every 2-bar window of a file (back to back by default), for import into slots.

    With ``limit``, at most that many, and the file is read only as far as they reach.
    """
    bars = STEPS // STEPS_PER_BAR
    max_beats = None
    if limit is not None:
        max_beats = ((limit - 1) * hop_bars + bars) * STEPS_PER_BAR // STEPS_PER_BEAT
    perf = read_midi(source, note_map, max_beats=max_beats)
    found = iter_windows(perf, note_map, hop_bars=hop_bars, keep_empty=True)
    return [w.pattern for w in itertools.islice(found, limit)]


def midi_to_pattern(source: str | Path | bytes, note_map: Mapping[int, int] = NOTE_MAP) -> Pattern:
    """The first 2 bars of a file as a pattern."""
    return midi_to_patterns(source, note_map, limit=1)[0]


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
    path: str | Path,
    patterns: Iterable[Pattern],
    kit: KitMap | None = None,
    force: bool = False,
    **kwargs,
) -> Path:
    """Write patterns as a type-1 file, atomically (patterns.files).

    Refuses (CodecError) to write over the open bank, its backup or lock, or an
    existing file that is not a MIDI file unless ``force``.
    """
    path = Path(path)
    midi = patterns_to_midi(patterns, kit, **kwargs)
    try:
        check_overwrite(path, magic=b"MThd", force=force, what="MIDI file")
        with atomic_file(path, what="MIDI file") as f:
            midi.save(file=f)
    except FileError as exc:
        raise CodecError(str(exc)) from None
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
    "iter_windows",
    "kit_note_map",
    "midi_to_pattern",
    "midi_to_patterns",
    "patterns_to_midi",
    "read_midi",
    "windows",
    "write_midi",
]
