"""The MIDI reader and the windowing on hostile sizes: lazy, linear, empty stretches free."""

from __future__ import annotations

import io
import itertools
import struct

import mido
from hypothesis import example, given, settings
from hypothesis import strategies as st

from codec.midi import (
    NOTE_MAP,
    Note,
    Performance,
    iter_windows,
    midi_to_pattern,
    midi_to_patterns,
    read_midi,
    windows,
)
from patterns.grid import MIN_OFFSET, STEPS_PER_BAR, TICKS_PER_STEP
from patterns.pattern import Event, Pattern


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _smf(track: bytes, tpb: int = 96) -> bytes:
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpb) + b"MTrk" + struct.pack(
        ">I", len(track)) + track


FAR = _smf(b"\x00\x99\x24\x64" + _vlq(2**28) + b"\x89\x24\x00" + b"\x00\xff\x2f\x00")


def test_a_tiny_file_whose_end_is_far_away_costs_nothing():
    assert len(FAR) == 38
    perf = read_midi(FAR)
    assert perf.length_ticks == 2**28  # about 700 000 bars at 96 ticks a beat
    assert [w.bar for w in windows(perf)] == [0]  # one window holds the one note
    assert midi_to_pattern(FAR).events == (Event(0, 1, 0, 100),)
    first = list(itertools.islice(iter_windows(perf, keep_empty=True, hop_bars=2), 3))
    assert [w.bar for w in first] == [0, 2, 4]
    assert len(midi_to_patterns(FAR, limit=128)) == 128


def test_empty_stretches_are_jumped():
    notes = [Note(0, 36, 100), Note(96 * 4 * 100_000, 38, 90)]  # bar 0 and bar 100 000
    perf = Performance("far", 96, notes, [(0, 500000)], [], notes[-1].tick)
    assert [w.bar for w in windows(perf)] == [0, 99_999]  # the last reaches the last bar
    assert [w.bar for w in windows(perf, hop_bars=2)] == [0, 100_000]


def test_the_reader_stops_where_the_windows_end():
    body = b"\x00\x99\x24\x64" + b"\x60\x24\x64" * 50_000 + b"\x00\xff\x2f\x00"
    perf = read_midi(_smf(body), max_beats=8)
    assert len(perf.notes) == 9  # beats 0..8, not 50 001 notes
    assert len(read_midi(_smf(body)).notes) == 50_001


def _reference(perf: Performance, hop: int, keep_empty: bool) -> list[tuple[int, tuple]]:
    """The windows, by brute force: every window start, every note checked."""
    placed = []
    for n in perf.notes:
        g = perf.grid_ticks(n.tick)
        step = (g - MIN_OFFSET) // TICKS_PER_STEP
        placed.append((step, g - step * TICKS_PER_STEP, NOTE_MAP[n.note], n))
    last = max(p[0] for p in placed) // STEPS_PER_BAR + 1
    if keep_empty:
        last = max(last, -(-perf.grid_ticks(perf.length_ticks) // (STEPS_PER_BAR * 96)))
    out = []
    for bar in range(0, max(1, last - 2 + hop), hop):
        first = bar * STEPS_PER_BAR
        cells: dict = {}
        for step, offset, track, n in placed:
            if first <= step < first + 32:
                key = (step - first, track)
                if key not in cells or cells[key].velocity < n.velocity:
                    cells[key] = Event(step - first, track, offset, n.velocity)
        if cells or keep_empty:
            out.append((bar, Pattern(tuple(cells.values())).events))
    return out


@settings(max_examples=80, deadline=None)
@given(
    ticks=st.lists(st.integers(0, 96 * 4 * 40), min_size=1, max_size=60),
    notes=st.lists(st.sampled_from([36, 38, 42, 46, 49]), min_size=60, max_size=60),
    hop=st.sampled_from([1, 2]),
    keep_empty=st.booleans(),
)
def test_windows_match_a_brute_force_reference(ticks, notes, hop, keep_empty):
    found = sorted({(t, n) for t, n in zip(ticks, notes, strict=False)})
    perf = Performance("p", 96, [Note(t, n, 1 + (t % 127)) for t, n in found], [(0, 500000)],
                       [], found[-1][0])
    got = [(w.bar, w.pattern.events) for w in windows(perf, hop_bars=hop, keep_empty=keep_empty)]
    assert got == _reference(perf, hop, keep_empty)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.sampled_from([35, 36, 38, 42, 60]),
                          st.integers(0, 127), st.integers(0, 15)), max_size=40),
       st.sampled_from([96, 480, 1920]))
@example([(0, 35, 1, 0), (0, 35, 1, 3)], 96)  # one drum at once on two channels: one note
def test_the_reader_agrees_with_mido(events, tpb):
    """The own reader against mido's on files mido writes (running status included)."""
    track = mido.MidiTrack()
    for delta, note, velocity, channel in events:
        track.append(mido.Message("note_on", note=note, velocity=velocity, channel=channel,
                                  time=delta))
    track.append(mido.MetaMessage("set_tempo", tempo=400000, time=3))
    midi = mido.MidiFile(ticks_per_beat=tpb)
    midi.tracks.append(track)
    buf = io.BytesIO()
    midi.save(file=buf)
    expected: dict[int, list] = {}
    tick = 0
    for msg in mido.MidiFile(file=io.BytesIO(buf.getvalue())).tracks[0]:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity and msg.note in NOTE_MAP:
            expected.setdefault(msg.channel, []).append((tick, msg.note, msg.velocity))
    want = expected.get(9) or [n for ns in expected.values() for n in ns]
    want = sorted(set(want), key=lambda n: (n[0], n[1]))
    try:
        perf = read_midi(buf.getvalue())
    except Exception as exc:  # noqa: BLE001
        assert not want, exc
        return
    got = [(n.tick, n.note, n.velocity) for n in perf.notes]
    # the same drum struck twice on one tick is one note, the louder
    loud = {}
    for t, n, v in want:
        loud[(t, n)] = max(v, loud.get((t, n), 0))
    assert got == sorted(((t, n, v) for (t, n), v in loud.items()), key=lambda x: (x[0], x[1]))
    assert perf.tempos == [(0, 500000), (sum(e[0] for e in events) + 3, 400000)]
