"""A save merges what another program wrote into the file meanwhile; nothing is lost."""

from __future__ import annotations

import json
import subprocess
import sys

from patterns.bank import Bank, load_bank, save_bank
from patterns.bank_merge import merge_banks
from patterns.pattern import Event, Pattern


def _p(step: int, name: str) -> Pattern:
    return Pattern((Event(step, 1, 0, 100),), name=name)


def test_a_slot_written_from_outside_survives_the_next_save(tmp_path):
    path = tmp_path / "live.json"
    save_bank(Bank({"A01": _p(0, "mine")}), path)
    ours = load_bank(path).bank
    # another program (here: the CLI in another process) imports into B01
    other = Bank({"A01": _p(0, "mine"), "B01": _p(8, "from outside")})
    code = ("import sys; from patterns.bank import save_bank, Bank; "
            "from patterns.pattern import Event, Pattern; "
            "save_bank(Bank({'A01': Pattern((Event(0, 1, 0, 100),), name='mine'), "
            "'B01': Pattern((Event(8, 1, 0, 100),), name='from outside')}), sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    result = save_bank(ours.with_slot("A02", _p(4, "new here")), path)
    on_disk = load_bank(path).bank
    assert on_disk == result.bank
    assert on_disk.slots == {**other.slots, "A02": _p(4, "new here")}
    assert result.notes == ()


def test_a_slot_changed_on_both_sides_keeps_both_and_says_so():
    base = Bank({"A01": _p(0, "base"), "A02": _p(1, "two")})
    ours = base.with_slot("A01", _p(2, "ours"))
    theirs = base.with_slot("A01", _p(3, "theirs")).without_slot("A02")
    merged, notes = merge_banks(base, ours, theirs)
    assert merged["A01"] == _p(2, "ours")
    # A02 was cleared there and untouched here: cleared, so the first free slot
    assert merged["A02"] == _p(3, "theirs")
    assert merged.filled() == ["A01", "A02"]
    assert notes == ("slot A01 changed both here and in the file: yours is in A01, "
                     "the file's is now in A02",)


def test_no_free_slot_points_at_the_bak():
    from patterns.bank_model import SLOT_NAMES

    base = Bank({s: _p(0, s) for s in SLOT_NAMES})
    merged, notes = merge_banks(base, base.with_slot("C03", _p(1, "x")),
                                base.with_slot("C03", _p(2, "y")))
    assert merged["C03"] == _p(1, "x")
    assert "no free slot for the file's, which is kept in the .bak file" in notes[0]


def test_chains_and_unknown_keys_merge_too(tmp_path):
    path = tmp_path / "b.json"
    save_bank(Bank({"A01": _p(0, "a")}), path)
    ours = load_bank(path).bank
    raw = json.loads(path.read_text())
    raw["chains"] = {"song": [["A01", 2]]}
    raw["comment"] = "added by hand"
    path.write_text(json.dumps(raw))
    result = save_bank(ours.with_name("renamed"), path)
    on_disk = json.loads(path.read_text())
    assert on_disk["chains"] == {"song": [["A01", 2]]}
    assert on_disk["comment"] == "added by hand"
    assert on_disk["name"] == "renamed"
    assert result.notes == ()
