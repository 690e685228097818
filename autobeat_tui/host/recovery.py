"""The host's recovery files: the working pattern and its undo history, after each change.

Two files beside the bank, both through the bank's atomic writer:

- ``NAME.recovery.json``: a bank file holding the unsaved working pattern in its slot
  (the same file the app keeps at quit, so either restores the other's);
- ``NAME.recovery-undo.json``: the undo and redo stacks, for the host to put back.

After ``kill -9`` of the host the next start puts both back and says so; a save
leaves no unsaved work, and so no ``NAME.recovery.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from patterns.bank import Bank, BankError, load_bank
from patterns.bank_file import encode_bank, slot_from_json, to_mapping
from patterns.bank_write import write_atomic
from patterns.pattern import Pattern

UNDO_FORMAT = "autobeat-undo"
UNDO_VERSION = 1


def pattern_to_json(pattern: Pattern) -> dict[str, Any]:
    return to_mapping(Bank({"A01": pattern}))["slots"]["A01"]


def pattern_from_json(raw: Any) -> Pattern:
    try:
        return slot_from_json(raw)
    except Exception as exc:  # bank_file._Unreadable: names the field
        raise ValueError(str(exc)) from None


def recovery_path(bank_path: Path) -> Path:
    return bank_path.with_name(bank_path.name.removesuffix(".json") + ".recovery.json")


def undo_path(bank_path: Path) -> Path:
    return bank_path.with_name(bank_path.name.removesuffix(".json") + ".recovery-undo.json")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class Recovery:
    """Keeps a session's working pattern and history on disk as they change."""

    def __init__(self, bank_path: Path) -> None:
        self.bank_path = bank_path
        self._written: Any = None  # what the files hold now

    def keep(self, session) -> bool:
        """Write what changed since the last call; True when something was written."""
        past, future = session.history.stacks()
        present = session.pattern
        stored = session.bank.slots.get(session.slot) if session.bank is not None else None
        unsaved = present != (stored if stored is not None else Pattern())
        key = (session.slot, present, tuple(past), tuple(future), unsaved)
        if key == self._written:
            return False
        if unsaved:
            bank = Bank({session.slot: present}, name=f"unsaved work in {self.bank_path.name}")
            write_atomic(recovery_path(self.bank_path), encode_bank(bank), keep_backup=False)
        else:
            _unlink(recovery_path(self.bank_path))
        undo = {
            "format": UNDO_FORMAT,
            "version": UNDO_VERSION,
            "slot": session.slot,
            "present": pattern_to_json(present),
            "past": [pattern_to_json(p) for p in past],
            "future": [pattern_to_json(p) for p in future],
        }
        write_atomic(undo_path(self.bank_path), json.dumps(undo).encode(), keep_backup=False)
        self._written = key
        return True

    def take(self, session) -> str | None:
        """At start: put back the working pattern (and its history) of a host that did not
        stop cleanly; a line saying so, or None when there is nothing to bring back."""
        rec, und = recovery_path(self.bank_path), undo_path(self.bank_path)
        present: Pattern | None = None
        slot = session.slot
        if rec.exists():
            try:
                kept = load_bank(rec).bank
            except BankError as exc:
                return f"unsaved work of the last session could not be read: {exc}"
            if kept.slots:
                slot, present = next(iter(kept.slots.items()))
        history = None
        if und.exists():
            try:
                raw = json.loads(und.read_bytes())
                if raw.get("format") != UNDO_FORMAT or raw.get("version") != UNDO_VERSION:
                    raise ValueError("not an undo file of this version")
                h_present = pattern_from_json(raw["present"])
                past = [pattern_from_json(p) for p in raw["past"]]
                future = [pattern_from_json(p) for p in raw["future"]]
                h_slot = str(raw["slot"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                history = None
                note = f"; its undo history could not be read ({und.name}: {exc})"
            else:
                note = ""
                # the history of the pattern that comes back: the unsaved one, or (after a
                # clean stop) the one still saved in its slot, never a stale one
                stored = session.bank.slots.get(h_slot) if session.bank is not None else None
                if (h_present == present and h_slot == slot) if present is not None else (
                        h_present == stored):
                    history = (h_slot, h_present, past, future)
        else:
            note = ""
        if history is not None:
            slot, h_present, past, future = history
            if present is None and not past and not future:
                return None
            session.slot = slot
            session.history.restore(h_present, past, future)
        elif present is not None:
            session.slot = slot
            session.history.commit(present)
        else:
            return None
        undo, redo = session.history.depth
        what = "the unsaved pattern" if present is not None else "the pattern"
        return (f"{what} of {slot} from the last session is back, with {undo} undo "
                f"step{'s' if undo != 1 else ''}" + (f" and {redo} redo" if redo else "")
                + (f" (w saves it; it is kept in {rec.name} until then)"
                   if present is not None else "") + note)

    def drop(self) -> None:
        _unlink(recovery_path(self.bank_path))
        _unlink(undo_path(self.bank_path))
        self._written = None
