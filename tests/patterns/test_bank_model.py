from __future__ import annotations

import subprocess
import sys

import pytest

from patterns.bank import (
    SLOT_NAMES,
    Bank,
    BankError,
    Chain,
    check_chain_name,
    check_slot,
    starter_bank,
)
from patterns.pattern import Event, Pattern
from tests.conftest import ROOT


def test_slot_names_are_a01_to_h16_in_order():
    assert len(SLOT_NAMES) == 128
    assert SLOT_NAMES[:3] == ("A01", "A02", "A03")
    assert SLOT_NAMES[15:17] == ("A16", "B01")
    assert SLOT_NAMES[-1] == "H16"
    assert len(set(SLOT_NAMES)) == 128


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("A01", "A01"),
        ("a1", "A01"),
        ("a01", "A01"),
        (" h16 ", "H16"),
        ("B5", "B05"),
        ("c10", "C10"),
    ],
)
def test_check_slot_normalises(given, expected):
    assert check_slot(given) == expected


@pytest.mark.parametrize("bad", ["I01", "A00", "A17", "A", "01", "", "A1x", "AA1", None, 5])
def test_check_slot_names_the_range(bad):
    with pytest.raises(BankError, match=r"slot must be A01\.\.H16 .*got"):
        check_slot(bad)


def test_chain_validates_and_normalises_entries():
    chain = Chain("verse", (("a1", 4), ("B05", 1)))
    assert chain.entries == (("A01", 4), ("B05", 1))
    assert chain.bars == 10
    assert list(chain.slots()) == ["A01"] * 4 + ["B05"]
    with pytest.raises(BankError, match=r"chain 'v' entry 1: repeats must be in 1\.\.99, got 0"):
        Chain("v", (("A01", 0),))
    with pytest.raises(BankError, match=r"entry 2: slot must be A01\.\.H16"):
        Chain("v", (("A01", 1), ("Q01", 1)))
    with pytest.raises(BankError, match="repeats must be an integer"):
        Chain("v", (("A01", True),))
    with pytest.raises(BankError, match="chain name must be"):
        Chain("", ())
    with pytest.raises(BankError, match="chain name must be"):
        check_chain_name(" padded ")


def _pattern(name: str, step: int = 0) -> Pattern:
    return Pattern((Event(step, 1, 0, 100),), name=name)


def test_bank_edits_return_new_banks_in_slot_order():
    empty = Bank()
    bank = empty.with_slot("b1", _pattern("b")).with_slot("A02", _pattern("a"))
    assert empty.filled() == []
    assert bank.filled() == ["A02", "B01"]
    assert bank.get("a2").name == "a"
    assert bank.get("C01") is None
    assert bank["B01"].name == "b"
    with pytest.raises(BankError, match="slot C01 is empty"):
        bank["c1"]
    copied = bank.copy_slot("A02", "H16")
    assert copied.get("H16") == bank.get("A02")
    assert copied.without_slot("A02").filled() == ["B01", "H16"]
    assert copied.next_free() == "A01"
    assert copied.next_free("A02") == "A03"
    full = Bank({s: _pattern(s) for s in SLOT_NAMES})
    assert full.next_free() is None


def test_bank_chains():
    bank = (
        Bank()
        .with_slot("A01", _pattern("x", step=3))
        .with_chain(Chain("song", (("A01", 2), ("A02", 1))))
    )
    items = bank.chain_patterns("song")
    assert [slot for slot, _ in items] == ["A01", "A01", "A02"]
    assert items[2][1].is_empty() and items[2][1].tempo == items[0][1].tempo  # a rest
    with pytest.raises(BankError, match=r"no chain named 'x' \(chains: song\)"):
        bank.chain("x")
    assert bank.without_chain("song").chains == {}
    with pytest.raises(BankError, match="no chain named"):
        bank.without_chain("nope")


def test_bank_rejects_wrong_values():
    with pytest.raises(BankError, match="must hold a Pattern"):
        Bank({"A01": "beat"})
    with pytest.raises(BankError, match="slot must be"):
        Bank({"Z01": Pattern()})
    with pytest.raises(BankError, match="given twice"):
        Bank({"a1": Pattern(), "A01": Pattern()})
    with pytest.raises(BankError, match="filed under another name"):
        Bank(chains={"a": Chain("b")})
    with pytest.raises(BankError, match="slot A01 is both filled and unread"):
        Bank({"A01": Pattern()}, unread_slots={"A01": {}})
    with pytest.raises(BankError, match="chain 's' is both read and unread"):
        Bank(chains={"s": Chain("s")}, unread_chains={"s": 1})


def test_banks_compare_by_value():
    a = Bank({"A01": _pattern("x")}, {"s": Chain("s", (("A01", 1),))}, "n")
    b = Bank({"A01": _pattern("x")}, {"s": Chain("s", (("a1", 1),))}, "n")
    assert a == b
    assert a != b.with_name("other")


def test_starter_bank_has_a_beat_in_a01():
    bank = starter_bank()
    assert bank.filled() == ["A01"]
    pattern = bank["A01"]
    assert pattern.name == "Rock 1"
    assert [e.step for e in pattern.track_events(3)] == [4, 12, 20, 28]


def test_bank_modules_import_no_ui_and_no_torch():
    code = (
        "import sys, patterns.bank, patterns.bank_midi; "
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not {"textual", "rich", "torch"} & {name.split(".")[0] for name in out}


def test_patterns_package_does_not_import_the_bank():
    # codec imports patterns, and the bank imports codec: patterns/__init__ must stay clear.
    code = "import sys, patterns; print('codec.tokens' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"
