"""Pattern banks: 128 slots A01..H16 and chains, kept in a file that never loses work.

The API the app, the engine and the command line use (no UI imports)::

    bank, warnings, lock = open_bank(path)         # default bank if path is None
    bank = bank.with_slot("A01", pattern)
    save_bank(bank, lock.path)                     # atomic, durable, NAME.bak kept
    lock.release()

Pieces: bank_model (values and errors), bank_file (the JSON format), bank_write
(atomic saves), bank_lock (one writer), bank_midi (MIDI export and import).

Note: this module (through bank_file) is the one place where patterns/ uses
codec/ (the token text of each group); patterns/__init__ does not import it,
because codec imports patterns.
"""

from __future__ import annotations

import os
from pathlib import Path

from patterns.bank_file import FORMAT, FORMAT_VERSION, check_bytes, encode_bank, loads
from patterns.bank_lock import BankLock, check_not_locked_elsewhere, held_lock, lock_path
from patterns.bank_merge import SaveResult, merge_banks
from patterns.bank_model import (
    MAX_REPEATS,
    SLOT_NAMES,
    Bank,
    BankError,
    BankLockedError,
    Chain,
    LoadResult,
    chain_entry,
    chain_text,
    check_chain_name,
    check_slot,
    looks_like_chain_entry,
)
from patterns.bank_write import bak_path, write_atomic
from patterns.files import FileError, read_user_file
from patterns.grid import STEPS_PER_BEAT
from patterns.pattern import Event, GroupParams, Pattern

APP_NAME = "autobeat"
DEFAULT_BANK_NAME = "default"

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_REPEATS",
    "SLOT_NAMES",
    "Bank",
    "BankError",
    "BankLock",
    "BankLockedError",
    "Chain",
    "LoadResult",
    "bak_path",
    "chain_entry",
    "chain_text",
    "check_chain_name",
    "looks_like_chain_entry",
    "check_slot",
    "default_bank_path",
    "held_lock",
    "load_bank",
    "lock_path",
    "merge_banks",
    "open_bank",
    "save_bank",
    "starter_bank",
]

# (real path) -> (inode, size, mtime_ns) of the file as this process last read or wrote
# it: a save over a file we know skips re-checking that it is a bank.
_KNOWN: dict[str, tuple[int, int, int]] = {}
# (real path) -> the bank as this process last read or wrote it: the base of a merge
# when the file changed on disk meanwhile (another program saved into it)
# (a forked child did not read it: the pid says whose memory it is)
_BASE: dict[str, tuple[int, Bank]] = {}


def _stamp(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _remember(path: str | os.PathLike[str], bank: Bank | None = None) -> None:
    stamp = _stamp(path)
    if stamp is not None:
        _KNOWN[os.path.realpath(path)] = stamp
        if bank is not None:
            _BASE[os.path.realpath(path)] = (os.getpid(), bank)


def default_bank_path() -> Path:
    """The default bank: ``<user data folder>/autobeat/banks/default.json`` (platformdirs)."""
    import platformdirs

    folder = platformdirs.user_data_path(APP_NAME, appauthor=False)
    return folder / "banks" / f"{DEFAULT_BANK_NAME}.json"


def load_bank(path: str | os.PathLike[str]) -> LoadResult:
    """Read a bank file.

    Raises:
        BankError: the file is missing, unreadable, or not a bank this program reads
            (the message names the file and, where it applies, the field).
            Slots and chains that cannot be read are skipped and listed in
            ``LoadResult.warnings`` instead.
    """
    if not os.path.lexists(path):
        raise BankError(f"{path}: no bank file there")
    try:
        data = read_user_file(path, "bank")
    except FileError as exc:
        raise BankError(str(exc)) from None
    result = loads(data, str(path))
    _remember(path, result.bank)
    return result


def save_bank(
    bank: Bank, path: str | os.PathLike[str], overwrite_unreadable: bool = False
) -> SaveResult:
    """Write a bank atomically and durably, keeping the previous file as ``NAME.bak``.

    If the file changed on disk since this process last read or wrote it (another
    program saved into it: its inode, size or mtime differ), the change is merged
    first (``merge_banks``): what only the other side changed is kept, and where
    both changed a slot, both are kept and the notes say where. The result holds
    the bank as saved (the caller should carry on with it) and those notes.

    Refuses (BankError) to replace a file that is not a bank this program can read,
    unless ``overwrite_unreadable``: such a file may be a user's work in a newer
    format, or a damaged bank someone wants to repair by hand.

    Raises:
        BankLockedError: another program holds the bank's lock.
        BankError: nothing was saved; the file on disk is unchanged (see the message).
    """
    if not isinstance(bank, Bank):
        raise BankError(f"{path}: can only save a Bank, got {type(bank).__name__}")
    check_not_locked_elsewhere(path)
    notes: tuple[str, ...] = ()
    real = os.path.realpath(path)
    stamp = _stamp(path)
    reader, base = _BASE.get(real, (0, None))
    if stamp is not None and _KNOWN.get(real, stamp) != stamp and reader == os.getpid():
        try:
            theirs = load_bank(path).bank
        except BankError:
            theirs = None  # not a bank now: _refuse_unreadable says so below
        if theirs is not None and base is not None:
            bank, notes = merge_banks(base, bank, theirs)
    if not overwrite_unreadable:
        _refuse_unreadable(path)
    write_atomic(path, encode_bank(bank))
    _remember(path, bank)
    return SaveResult(bank, notes)


def _refuse_unreadable(path: str | os.PathLike[str]) -> None:
    stamp = _stamp(path)
    if stamp is None or _KNOWN.get(os.path.realpath(path)) == stamp:
        return
    if not os.path.lexists(path):
        return
    try:
        data = read_user_file(path, "bank")
    except FileError as exc:
        raise BankError(
            f"not saved: {exc}; so it is not replaced. Save to another file (--bank FILE)"
        ) from None
    try:
        check_bytes(data, str(path))
    except BankError as exc:
        raise BankError(
            f"not saved: {exc}. That file is left as it is; save to another file "
            "(--bank FILE), or fix or move it"
        ) from None


def open_bank(
    path: str | os.PathLike[str] | None = None, lock: bool = True
) -> tuple[Bank, tuple[str, ...], BankLock | None]:
    """Open a bank for the app: (bank, warnings to show, the held lock or None).

    - ``path`` None: the default bank, made (with a starter pattern in A01) on first run.
    - A path with no file yet: an empty bank, made on the first save.
    - A file that cannot be read: an empty bank and a warning; the file is never
      overwritten (save_bank refuses it until it is fixed, or the user saves elsewhere).
    - ``lock``: take the bank's write lock first; BankLockedError if another program
      has it. A folder where no lock can be made opens the bank with a warning.
    """
    is_default = path is None
    bank_path = Path(path) if path is not None else default_bank_path()
    warnings: list[str] = []
    if is_default:
        try:
            bank_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BankError(
                f"{bank_path.parent}: cannot make the bank folder: {exc.strerror or exc}"
            ) from None
    held: BankLock | None = None
    if lock:
        try:
            held = BankLock(bank_path).acquire()
        except BankLockedError:
            raise
        except BankError as exc:
            warnings.append(f"{exc}; changes to this bank cannot be saved there")
    try:
        if not os.path.lexists(bank_path):
            if is_default:
                bank = starter_bank()
                save_bank(bank, bank_path)
                return bank, tuple(warnings), held
            name = bank_path.name.removesuffix(".json")
            warnings.append(f"{bank_path}: a new bank; the file is made on the first save")
            return Bank(name=name), tuple(warnings), held
        try:
            result = load_bank(bank_path)
        except BankError as exc:
            note = f"{exc}. Started with an empty bank; that file is left untouched"
            bak = bak_path(bank_path)
            if bak.exists():
                note += f" (the save before is in {bak.name}: `autobeat bank restore` puts it back)"
            warnings.append(note)
            return Bank(name=bank_path.name.removesuffix(".json")), tuple(warnings), held
        warnings.extend(result.warnings)
        return result.bank, tuple(warnings), held
    except BaseException:
        if held is not None:
            held.release()
        raise


def starter_bank() -> Bank:
    """The default bank's first content: a plain rock beat in A01, so play works at once."""
    events = []
    for step in range(0, 32, 2):  # closed hat on every 8th note
        events.append(Event(step, 5, 0, 100 if step % STEPS_PER_BEAT == 0 else 72))
    for step in (0, 10, 16, 26):  # kick
        events.append(Event(step, 1, 0, 110))
    for step in (4, 12, 20, 28):  # snare on 2 and 4
        events.append(Event(step, 3, 0, 105))
    events.append(Event(0, 11, 0, 96))  # a crash on the one
    params = tuple(GroupParams(genre="rock") for _ in range(4))
    pattern = Pattern(tuple(events), params, tempo=110.0, swing=50.0, name="Rock 1")
    return Bank({"A01": pattern}, name=DEFAULT_BANK_NAME)
