"""Merging a bank with the same file changed by another program meanwhile.

Three banks: ``base`` (the file as this process last read or wrote it), ``ours``
(what it wants to save) and ``theirs`` (the file on disk now). Per slot, per
chain and for the name and the unknown top-level keys:

- changed on one side only: that side's value is kept;
- changed on both sides to the same value: kept;
- changed on both sides differently: ours stays where it is, theirs goes to the
  first free slot (a chain: under ``NAME (from file)``), and a note says so. With
  no free slot left, theirs stays only in ``NAME.bak`` (the save keeps the file
  it replaces there) and the note says that.

Nothing either side made is dropped without a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patterns.bank_model import SLOT_NAMES, Bank, BankError, Chain


@dataclass(frozen=True)
class SaveResult:
    """The bank as saved (merged with changes on disk, if any) and what the merge did."""

    bank: Bank
    notes: tuple[str, ...] = ()


def _slot_value(bank: Bank, slot: str) -> tuple[str, Any, Any] | None:
    if slot in bank.slots:
        return ("pattern", bank.slots[slot], bank.slot_extra.get(slot))
    if slot in bank.unread_slots:
        return ("raw", bank.unread_slots[slot], None)
    return None


def _pick(base: Any, ours: Any, theirs: Any) -> tuple[Any, bool]:
    """(the merged value, True where both sides changed it differently: ours, then)."""
    if ours == base:
        return theirs, False
    if theirs == base or theirs == ours:
        return ours, False
    return ours, True


def merge_banks(base: Bank, ours: Bank, theirs: Bank) -> tuple[Bank, tuple[str, ...]]:
    """The three-way merge of the module doc: (merged bank, one note per conflict)."""
    notes: list[str] = []
    names = [s for s in SLOT_NAMES]
    names += sorted({*base.unread_slots, *ours.unread_slots, *theirs.unread_slots} - set(names))
    merged: dict[str, tuple[str, Any, Any] | None] = {}
    conflicts: list[tuple[str, tuple[str, Any, Any]]] = []
    for slot in names:
        value, both = _pick(_slot_value(base, slot), _slot_value(ours, slot),
                            _slot_value(theirs, slot))
        merged[slot] = value
        if both and _slot_value(theirs, slot) is not None:
            conflicts.append((slot, _slot_value(theirs, slot)))
        elif both:
            notes.append(f"slot {slot} was cleared in the file and changed here: kept yours")
    free = [s for s in SLOT_NAMES if merged.get(s) is None]
    for slot, value in conflicts:
        if free:
            target = free.pop(0)
            merged[target] = value
            notes.append(
                f"slot {slot} changed both here and in the file: yours is in {slot}, "
                f"the file's is now in {target}"
            )
        else:
            notes.append(
                f"slot {slot} changed both here and in the file: yours is in {slot}; no free "
                "slot for the file's, which is kept in the .bak file"
            )
    slots, unread, slot_extra = {}, {}, {}
    for slot, value in merged.items():
        if value is None:
            continue
        kind, item, extra = value
        if kind == "pattern":
            slots[slot] = item
            if extra:
                slot_extra[slot] = extra
        else:
            unread[slot] = item
    chains, unread_chains = _merge_chains(base, ours, theirs, notes)
    name, both = _pick(base.name, ours.name, theirs.name)
    if both:
        notes.append(f"the bank was renamed in the file to {theirs.name!r}: kept {ours.name!r}")
    extra = {}
    for key in [*dict.fromkeys([*base.extra, *ours.extra, *theirs.extra])]:
        value, _ = _pick(base.extra.get(key, _MISSING), ours.extra.get(key, _MISSING),
                         theirs.extra.get(key, _MISSING))
        if value is not _MISSING:
            extra[key] = value
    try:
        bank = Bank(slots, chains, name, unread_slots=unread, unread_chains=unread_chains,
                    extra=extra, slot_extra=slot_extra)
    except BankError:  # cannot happen with banks that were valid; keep ours, say so
        return ours, (*notes, "the file's changes could not be merged; they are in the .bak")
    return bank, tuple(notes)


_MISSING = object()


def _chain_value(bank: Bank, name: str) -> Any:
    if name in bank.chains:
        return ("chain", bank.chains[name])
    if name in bank.unread_chains:
        return ("raw", bank.unread_chains[name])
    return None


def _merge_chains(base: Bank, ours: Bank, theirs: Bank,
                  notes: list[str]) -> tuple[dict[str, Chain], dict[str, Any]]:
    chains: dict[str, Chain] = {}
    unread: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if value is None:
            return
        if value[0] == "chain":
            chains[name] = value[1] if value[1].name == name else Chain(name, value[1].entries)
        else:
            unread[name] = value[1]

    names = dict.fromkeys([*base.chains, *base.unread_chains, *ours.chains, *ours.unread_chains,
                           *theirs.chains, *theirs.unread_chains])
    for name in names:
        value, both = _pick(_chain_value(base, name), _chain_value(ours, name),
                            _chain_value(theirs, name))
        put(name, value)
        theirs_value = _chain_value(theirs, name)
        if both and theirs_value is not None:
            other = f"{name[:20]} (from file)"
            put(other, theirs_value)
            notes.append(f"chain {name!r} changed both here and in the file: "
                         f"the file's is kept as {other!r}")
    return chains, unread
