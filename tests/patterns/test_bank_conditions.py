"""Conditional trigs, phrase and vary in the bank file (format version 2)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.bank import Bank
from patterns.bank_file import FORMAT_VERSION, dumps, loads
from patterns.conditions import CYCLE, parse_condition
from patterns.pattern import PHRASES, Event, Pattern
from tests.strategies import patterns_st

CONDITION_TEXTS = (*CYCLE, "1%", "99%", "37%", "3:7", "8:8", "1:3")
conditions_st = st.sampled_from(CONDITION_TEXTS).map(parse_condition)


@st.composite
def conditioned_st(draw):
    pattern = draw(patterns_st(velocities=st.integers(1, 127)))
    conds = []
    for e in pattern.events:
        if draw(st.booleans()):
            conds.append(((e.step, e.track), draw(conditions_st)))
    return Pattern(pattern.events, pattern.params, tempo=pattern.tempo, swing=pattern.swing,
                   conditions=tuple(conds), phrase=draw(st.sampled_from(PHRASES)),
                   vary=draw(st.sampled_from([0.0, 0.05, 0.1, 0.25, 1.0])))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["A01", "B16", "H03"]), conditioned_st(), max_size=3))
def test_conditions_phrase_and_vary_round_trip(slots):
    bank = Bank(slots, name="c")
    text = dumps(bank)
    back = loads(text)
    assert back.warnings == ()
    assert back.bank == bank
    for slot, pattern in slots.items():
        assert back.bank.slots[slot].conditions == pattern.conditions


def test_conditions_are_one_line_and_readable():
    p = Pattern((Event(4, 1), Event(2, 5)), conditions=(((4, 1), parse_condition("1:2")),
                                                       ((2, 5), parse_condition("40%"))),
                phrase=8, vary=0.1)
    text = dumps(Bank({"A01": p}))
    assert '      "conditions": [[2, 5, "40%"], [4, 1, "1:2"]],' in text.splitlines()
    slot = json.loads(text)["slots"]["A01"]
    assert (slot["phrase"], slot["vary"]) == (8, 0.1)
    assert json.loads(text)["version"] == FORMAT_VERSION == 2
    plain = json.loads(dumps(Bank({"A01": Pattern((Event(0, 1),))})))["slots"]["A01"]
    assert "conditions" not in plain and "phrase" not in plain and "vary" not in plain


def test_a_version_1_file_still_loads():
    text = dumps(Bank({"A01": Pattern((Event(0, 1),), name="old")})).replace(
        '"version": 2', '"version": 1')
    result = loads(text)
    assert result.warnings == ()
    assert result.bank.slots["A01"].name == "old"
    assert result.bank.slots["A01"].conditions == ()


def test_a_bad_condition_skips_the_slot_and_keeps_it_for_the_next_save():
    good = Pattern((Event(4, 1),), conditions=(((4, 1), parse_condition("1:2")),))
    data = json.loads(dumps(Bank({"A01": good, "A02": good})))
    data["slots"]["A02"]["conditions"] = [[4, 1, "7:4"]]
    result = loads(json.dumps(data))
    assert len(result.warnings) == 1
    assert "slot A02 skipped: conditions: entry 1: not a condition: '7:4'" in result.warnings[0]
    assert "A:B" in result.warnings[0]
    assert result.bank.slots["A01"] == good
    again = json.loads(dumps(result.bank))
    assert again["slots"]["A02"]["conditions"] == [[4, 1, "7:4"]]  # kept as it was


def test_export_writes_loops_with_the_conditions_played_out(tmp_path):
    from codec.midi import midi_to_patterns
    from patterns.bank import Chain
    from patterns.bank_midi import export_chain, export_slot

    p = Pattern((Event(0, 1), Event(8, 3), Event(16, 1)),
                conditions=(((0, 1), parse_condition("1:2")), ((8, 3), parse_condition("4:4"))))
    bank = Bank({"A01": p}, {"c": Chain("c", (("A01", 4),))})
    export_slot(bank, "A01", tmp_path / "slot.mid", loops=4)
    export_chain(bank, "c", tmp_path / "chain.mid")
    for name in ("slot.mid", "chain.mid"):
        loops = midi_to_patterns(tmp_path / name)
        assert len(loops) == 4
        assert [[(e.step, e.track) for e in loop.events] for loop in loops] == [
            [(0, 1), (16, 1)], [(16, 1)], [(0, 1), (16, 1)], [(8, 3), (16, 1)]]
