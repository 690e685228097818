"""MIDI export and import of slots, chains and whole banks."""

from __future__ import annotations

import mido
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codec.midi import EXPORT_TICKS_PER_BEAT
from patterns.bank import Bank, BankError, Chain
from patterns.bank_midi import export_all, export_chain, export_slot, import_midi
from patterns.grid import TICKS_PER_STEP
from patterns.kit import KitMap
from patterns.pattern import Event, Pattern
from tests.strategies import patterns_st

BAR_TICKS = 4 * EXPORT_TICKS_PER_BEAT


def _beat(tempo: float = 120.0, shift: int = 0, name: str = "") -> Pattern:
    events = (
        Event(0, 1, 0, 110),
        Event(4, 3, 7, 90),
        Event(6 + shift, 5, -9, 60),
        Event(17, 12, 30, 33),
        Event(31, 9, -40, 127),
    )
    return Pattern(events, tempo=tempo, name=name)


def _notes(path) -> list[tuple[int, int, int]]:
    """(absolute tick, note, velocity) of the note-ons of a file."""
    midi = mido.MidiFile(path)
    result = []
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                result.append((tick, msg.note, msg.velocity))
    return sorted(result)


def _tempos(path) -> list[tuple[int, float]]:
    midi = mido.MidiFile(path)
    tick, result = 0, []
    for msg in midi.tracks[0]:
        tick += msg.time
        if msg.type == "set_tempo":
            result.append((tick, round(mido.tempo2bpm(msg.tempo), 3)))
    return result


@given(patterns_st(velocities=st.integers(1, 127), min_offset=0).filter(lambda p: p.events))
def test_slot_to_midi_to_slot_within_the_codec_resolution(tmp_path_factory, pattern):
    path = tmp_path_factory.mktemp("midi") / "slot.mid"
    pattern = Pattern(pattern.events, pattern.params, tempo=pattern.tempo, swing=50.0)
    export_slot(Bank({"D04": pattern}), "D04", path)
    back = import_midi(Bank(), path, "A01").bank["A01"]
    # the grid survives exactly: steps, tracks, offsets (1/96 step) and velocities
    assert back.events == pattern.events
    assert back.tempo == pytest.approx(pattern.tempo, abs=1e-3)


def test_swing_is_exported_as_heard(tmp_path):
    pattern = Pattern((Event(1, 5, 0, 100), Event(2, 5, 0, 100)), swing=62.5)
    export_slot(Bank({"A01": pattern}), "A01", tmp_path / "s.mid")
    ticks = [t for t, _, _ in _notes(tmp_path / "s.mid")]
    scale = EXPORT_TICKS_PER_BEAT // (4 * TICKS_PER_STEP)
    # the off 16th is late by (2 * 62.5% - 1) of a 16th
    assert ticks == [(TICKS_PER_STEP + 24) * scale, 2 * TICKS_PER_STEP * scale]


def test_export_chain_spells_out_repeats_and_rests(tmp_path):
    bank = Bank(
        {"A01": _beat(100.0), "B02": _beat(140.0, shift=1)},
        {"song": Chain("song", (("A01", 2), ("C03", 1), ("B02", 1)))},
    )
    out = tmp_path / "song.mid"
    export_chain(bank, "song", out)
    midi = mido.MidiFile(out)
    assert midi.type == 1 and len(midi.tracks) == 2
    notes = _notes(out)
    assert len(notes) == 15  # 5 events x (2 repeats of A01 + B02); C03 is 2 bars of rest
    bars = sorted({t // BAR_TICKS for t, _, _ in notes})
    assert bars == [0, 1, 2, 3, 6, 7]
    assert _tempos(out) == [(0, 100.0), (6 * BAR_TICKS, 140.0)]
    assert midi.length == pytest.approx(6 * 4 * 0.6 + 2 * 4 * 60 / 140, abs=1e-4)


def test_export_all_in_slot_order_with_a_kit(tmp_path):
    kit = KitMap.from_dict({"tracks": {"kick": 24, "snare": {"note": 26, "channel": 2}}})
    bank = Bank({"H16": _beat(name="last"), "A03": Pattern((Event(0, 3, 0, 99),))})
    out = tmp_path / "all.mid"
    export_all(bank, out, kit)
    notes = _notes(out)
    assert notes[0] == (0, 26, 99)  # A03 first: its snare, through the kit
    assert (2 * BAR_TICKS, 24, 110) in notes  # then H16's kick
    channels = {m.channel for m in mido.MidiFile(out).tracks[1] if m.type == "note_on"}
    assert channels == {9, 1}


def test_import_windows_fill_consecutive_slots_and_stop_at_h16(tmp_path):
    bank = Bank({f"A0{i}": _beat(name=f"p{i}") for i in range(1, 5)})
    out = tmp_path / "four.mid"
    export_all(bank, out)
    result = import_midi(Bank(), out, "H14", windows=True, genre="funk")
    assert result.slots == ("H14", "H15", "H16")
    assert result.dropped == 1
    imported = result.bank["H15"]
    assert imported.events == _beat().events
    assert imported.name == "four bar 3"
    assert {p.genre for p in imported.params} == {"funk"}
    assert imported.params[0].density == "low"  # 2 drum events: measured with the bins
    first_only = import_midi(Bank(), out, "c5")
    assert first_only.slots == ("C05",) and first_only.bank["C05"].name == "four bar 1"


def test_import_reads_a_file_through_its_kit(tmp_path):
    kit = KitMap.from_dict({"tracks": {"kick": 24, "chh": 60}})
    out = tmp_path / "kit.mid"
    export_slot(Bank({"A01": _beat()}), "A01", out, kit)
    assert {n for _, n, _ in _notes(out)} >= {24, 60}
    back = import_midi(Bank(), out, "A01", kit=kit).bank["A01"]
    assert back.events == _beat().events


def test_export_and_import_errors(tmp_path):
    bank = Bank({"A01": _beat()}, {"empty": Chain("empty")})
    with pytest.raises(BankError, match="slot B01 is empty: nothing to export"):
        export_slot(bank, "B01", tmp_path / "x.mid")
    with pytest.raises(BankError, match="chain 'empty' is empty"):
        export_chain(bank, "empty", tmp_path / "x.mid")
    with pytest.raises(BankError, match="no chain named 'nope'"):
        export_chain(bank, "nope", tmp_path / "x.mid")
    with pytest.raises(BankError, match="no filled slots"):
        export_all(Bank(), tmp_path / "x.mid")
    with pytest.raises(BankError, match="cannot write"):
        export_slot(bank, "A01", tmp_path / "missing" / "x.mid")
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    with pytest.raises(BankError, match="bad.mid: not a MIDI file"):
        import_midi(bank, tmp_path / "bad.mid", "A02")
    with pytest.raises(BankError, match="cannot read"):
        import_midi(bank, tmp_path / "none.mid", "A02")
