"""The global tempo in the bank file, a slot's own tempo, and files from before them."""

from __future__ import annotations

import json

from patterns.bank import Bank, load_bank, save_bank
from patterns.bank_file import dumps, loads
from patterns.pattern import Event, Pattern


def test_the_bank_tempo_and_a_slots_own_tempo_go_round_the_file(tmp_path):
    bank = (Bank(tempo=96.0).with_slot("A01", Pattern(tempo=96.0).with_event(Event(0, 1)))
            .with_slot("A02", Pattern(tempo=140.0, own_tempo=True)))
    raw = json.loads(dumps(bank))
    assert raw["tempo"] == 96.0
    assert "own_tempo" not in raw["slots"]["A01"] and raw["slots"]["A02"]["own_tempo"] is True
    save_bank(bank, tmp_path / "bank.json")
    back = load_bank(tmp_path / "bank.json").bank
    assert back == bank
    assert (back.tempo_of("A01"), back.tempo_of("A02")) == (96.0, 140.0)


def test_a_file_from_before_the_global_tempo_loads_with_each_slots_tempo_kept():
    old = {
        "format": "autobeat-bank", "version": 1, "name": "old",
        "slots": {"A01": {"name": "Rock 1", "tempo": 110.0, "swing": 50.0, "groups": [
            {"seed": None, "model": "", "tokens": f"genre:rock type:beat density:mid "
             f"intensity:mid group:{g} end"} for g in (1, 2, 3, 4)]}},
        "chains": {},
    }
    result = loads(json.dumps(old))
    assert result.warnings == ()
    assert result.bank.tempo is None
    assert result.bank.get("A01").tempo == 110.0 and not result.bank.get("A01").own_tempo
    assert result.bank.tempo_of("A01") == 110.0


def test_a_bad_bank_tempo_is_a_warning_not_a_lost_bank():
    text = dumps(Bank(tempo=120.0).with_slot("A01", Pattern())).replace(
        '"tempo": 120.0,\n  "slots"', '"tempo": 900,\n  "slots"')
    result = loads(text, "bank.json")
    assert result.bank.tempo is None and result.bank.filled() == ["A01"]
    assert result.warnings == (
        "bank.json: tempo skipped (each slot plays at its own): "
        "bank tempo must be in 20..300 BPM, got 900.0",)


def test_a_chain_and_an_export_play_each_slot_at_the_tempo_it_plays_at(tmp_path):
    from patterns.bank import Chain
    from patterns.bank_midi import export_chain, slot_patterns

    bank = (Bank(tempo=100.0).with_slot("A01", Pattern(tempo=90.0).with_event(Event(0, 1)))
            .with_slot("A02", Pattern(tempo=140.0, own_tempo=True).with_event(Event(0, 3)))
            .with_chain(Chain("song", (("A01", 1), ("A02", 1), ("A03", 1)))))
    assert [p.tempo for _, p in bank.chain_patterns("song")] == [100.0, 140.0, 140.0]
    assert [p.tempo for p in slot_patterns(bank, ["A01", "A02"])] == [100.0, 140.0]
    assert export_chain(bank, "song", tmp_path / "song.mid").stat().st_size > 0
