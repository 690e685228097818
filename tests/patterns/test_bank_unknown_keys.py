"""Keys a bank file holds that this program does not know survive a load and a save."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.bank import load_bank, save_bank
from patterns.bank_file import GROUP_KEYS, SLOT_KEYS, TOP_KEYS, dumps, loads
from patterns.bank_model import Bank
from patterns.pattern import Event, Pattern
from tests.strategies import patterns_st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8,
)


def _unknown(known) -> st.SearchStrategy[dict]:
    keys = st.text(min_size=1, max_size=10).filter(lambda k: k not in known)
    return st.dictionaries(keys, json_values, max_size=3)


@settings(max_examples=60, deadline=None)
@given(
    pattern=patterns_st(),
    top=_unknown(TOP_KEYS),
    slot=_unknown(SLOT_KEYS),
    groups=st.lists(_unknown(GROUP_KEYS), min_size=4, max_size=4),
)
def test_unknown_keys_round_trip(pattern, top, slot, groups):
    raw = json.loads(dumps(Bank({"B03": pattern}, name="live")))
    raw.update(top)
    raw["slots"]["B03"].update(slot)
    for group, extra in zip(raw["slots"]["B03"]["groups"], groups, strict=True):
        group.update(extra)
    bank = loads(json.dumps(raw)).bank
    again = json.loads(dumps(bank))
    assert again == raw  # every key, known or not, as it was
    # and an edit elsewhere keeps them too
    edited = json.loads(dumps(bank.with_slot("A01", pattern).with_name("other")))
    assert {k: v for k, v in edited.items() if k not in TOP_KEYS} == top
    assert edited["slots"]["B03"] == raw["slots"]["B03"]


def test_unknown_keys_survive_a_save_to_disk_and_go_with_a_cleared_slot(tmp_path):
    path = tmp_path / "b.json"
    raw = json.loads(dumps(Bank({"A01": Pattern((Event(4, 3, 2, 99),))}, name="n")))
    raw["comment"] = "my live set"
    raw["slots"]["A01"]["colour"] = "#ff8800"
    raw["slots"]["A01"]["groups"][2]["note"] = "toms from the old kit"
    path.write_text(json.dumps(raw))
    bank = load_bank(path).bank
    save_bank(bank.with_name("renamed"), path)
    saved = json.loads(path.read_text())
    assert saved["comment"] == "my live set"
    assert saved["slots"]["A01"]["colour"] == "#ff8800"
    assert saved["slots"]["A01"]["groups"][2]["note"] == "toms from the old kit"
    save_bank(load_bank(path).bank.without_slot("A01"), path)
    saved = json.loads(path.read_text())
    assert saved["slots"] == {} and saved["comment"] == "my live set"
