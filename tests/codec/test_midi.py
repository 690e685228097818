from __future__ import annotations

import io

import mido
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from codec.errors import CodecError
from codec.midi import (
    event_seconds,
    kit_note_map,
    midi_to_pattern,
    midi_to_patterns,
    patterns_to_midi,
    read_midi,
    windows,
    write_midi,
)
from patterns import Event, Pattern
from patterns.kit import KitMap
from tests.conftest import GROOVE
from tests.strategies import patterns_st


def _bytes(midi: mido.MidiFile) -> bytes:
    buf = io.BytesIO()
    midi.save(file=buf)
    return buf.getvalue()


@given(patterns_st(velocities=st.integers(1, 127)))
def test_pattern_midi_pattern_within_resolution(pattern):
    # a hit early on the very first step would sound before the file starts
    assume(pattern.events and all(e.offset >= 0 for e in pattern.events if e.step == 0))
    straight = Pattern(events=pattern.events, tempo=pattern.tempo)
    back = midi_to_pattern(_bytes(patterns_to_midi([straight])))
    assert [(e.step, e.track, e.offset, e.velocity) for e in back.events] == [
        (e.step, e.track, e.offset, e.velocity) for e in straight.events
    ]
    assert back.tempo == pytest.approx(pattern.tempo, abs=1e-3)


def test_swing_is_applied_on_export():
    p = Pattern(events=(Event(1, 5, 0, 100), Event(2, 5, 0, 100)), swing=66)
    back = midi_to_pattern(_bytes(patterns_to_midi([p])))
    assert [(e.step, e.offset) for e in back.events] == [(1, 31), (2, 0)]
    unswung = midi_to_pattern(_bytes(patterns_to_midi([p], apply_swing=False)))
    assert [(e.step, e.offset) for e in unswung.events] == [(1, 0), (2, 0)]


def test_kit_map_and_type_1_layout(tmp_path):
    kit = KitMap.from_dict({"channel": 2, "tracks": {"kick": 24}})
    p = Pattern(events=(Event(0, 1, 0, 100), Event(8, 3, 0, 90)), tempo=97)
    path = write_midi(tmp_path / "beat.mid", [p, p.with_tempo(140), Pattern()], kit)
    midi = mido.MidiFile(path)
    assert midi.type == 1 and len(midi.tracks) == 2
    notes = [m for m in midi.tracks[1] if m.type == "note_on"]
    assert [(m.note, m.channel) for m in notes] == [(24, 1), (38, 1)] * 2
    tempos = [round(mido.tempo2bpm(m.tempo), 3) for m in midi.tracks[0] if m.type == "set_tempo"]
    assert tempos == [97, 140, 120]
    back = midi_to_patterns(path, kit_note_map(kit))
    assert [b.tempo for b in back] == pytest.approx([97, 140, 120])
    assert [(e.step, e.track) for e in back[0].events] == [(0, 1), (8, 3)]
    assert back[1].events == back[0].events and back[2].events == ()
    # without the kit's map, note 24 is no drum: only the snare comes back
    assert [e.track for e in midi_to_patterns(path)[0].events] == [3]


def _file(tpb: int, notes: list[tuple[int, int, int]], tempos=((0, 500000),), type_=0,
          channel=9, signature=(4, 4)) -> bytes:
    midi = mido.MidiFile(type=type_, ticks_per_beat=tpb)
    track = mido.MidiTrack()
    events = [(t, 0, mido.MetaMessage("set_tempo", tempo=us)) for t, us in tempos]
    events.append((0, 0, mido.MetaMessage("time_signature", numerator=signature[0],
                                          denominator=signature[1])))
    for tick, note, vel in notes:
        events.append((tick, 1, mido.Message("note_on", channel=channel, note=note, velocity=vel)))
        events.append((tick + 10, 2, mido.Message("note_off", channel=channel, note=note)))
    now = 0
    for tick, _, msg in sorted(events, key=lambda x: (x[0], x[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    midi.tracks.append(track)
    return _bytes(midi)


def test_any_ticks_per_beat_and_tempo_changes():
    # 96 ticks a beat; tempo 120 for the first bar, then 60
    data = _file(96, [(0, 36, 100), (24, 42, 80), (390, 38, 90)],
                 tempos=((0, 500000), (384, 1000000)))
    perf = read_midi(data)
    assert perf.seconds(384) == pytest.approx(2.0)
    assert perf.seconds(480) == pytest.approx(3.0)
    (w,) = windows(perf)
    assert [(e.step, e.track, e.offset) for e in w.pattern.events] == [
        (0, 1, 0), (1, 5, 0), (16, 3, 24)
    ]
    assert w.pattern.tempo == 120
    snare = w.pattern.at(16, 3)
    assert event_seconds(perf, 0, snare) == pytest.approx(perf.seconds(390))


def test_windows_hop_one_bar_and_keep_the_loudest_of_a_cell():
    bar = 4 * 480
    notes = [(i * bar, 36, 100) for i in range(4)] + [(5, 36, 30)]
    perf = read_midi(_file(480, notes))
    ws = windows(perf)
    assert [w.bar for w in ws] == [0, 1, 2]
    assert ws[0].merged == 1 and ws[0].pattern.at(0, 1).velocity == 100
    assert [e.step for e in ws[1].pattern.events] == [0, 16]


def test_non_drum_channels_are_used_only_without_channel_10():
    only_one = read_midi(_file(480, [(0, 36, 100)], channel=0))
    assert len(only_one.notes) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, not midi", "not a MIDI file"),
        (b"", "not a MIDI file"),
        (_file(480, [(0, 36, 100)])[:30], "truncated MIDI file|corrupt MIDI file"),
        (_file(480, [(0, 60, 100)]), "no drum notes"),
    ],
)
def test_bad_files_name_the_reason(data, message):
    with pytest.raises(CodecError, match=message):
        read_midi(data)


def test_bad_path(tmp_path):
    with pytest.raises(CodecError, match=f"{tmp_path / 'x.mid'}: cannot read"):
        read_midi(tmp_path / "x.mid")


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_codec_errors(data):
    try:
        read_midi(data)
    except CodecError:
        pass


@given(st.binary(max_size=200))
def test_random_bytes_after_a_valid_header_raise_only_codec_errors(tail):
    data = b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk" + tail
    try:
        read_midi(data)
    except CodecError:
        pass


@pytest.mark.skipif(not GROOVE.exists(), reason="the Groove data is not beside the project")
def test_groove_file_reads_with_td11_notes():
    perf = read_midi(GROOVE / "drummer1/session1/1_funk_80_beat_4-4.mid")
    assert perf.ticks_per_beat == 480 and perf.bpm_at(0) == pytest.approx(80)
    ws = windows(perf)
    assert len(ws) > 20
    assert {e.track for w in ws for e in w.pattern.events} >= {1, 3, 5}
