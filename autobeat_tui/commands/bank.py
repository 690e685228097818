"""`autobeat bank ...`: list, show, copy, clear, chain, export and import bank slots.

Every subcommand takes ``--bank FILE`` (default: the default bank in the user's
data folder, made on first use). Commands that change the bank take its lock,
so they are refused while the app has the same bank open.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from autobeat_tui.commands._numbers import SEED, integer
from autobeat_tui.commands._options import load_kit
from autobeat_tui.errors import shown

NAME = "bank"
HELP = "list, show, copy, clear, chain, export (MIDI) and import (MIDI) pattern bank slots"



def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bank", metavar="FILE", help="the bank file (default: the default bank)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = sub.add_parser("ls", parents=[common], help="list the filled slots and the chains")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("show", parents=[common], help="show one slot: facts, grid, tokens")
    p.add_argument("slot", metavar="SLOT")
    p.add_argument("--tokens", action="store_true", help="print only the four token lines")

    p = sub.add_parser("copy", parents=[common], help="copy a slot to another slot")
    p.add_argument("source", metavar="SLOT")
    p.add_argument("target", metavar="SLOT")
    p.add_argument("--force", action="store_true", help="replace a filled target slot")

    p = sub.add_parser("clear", parents=[common], help="empty one or more slots")
    p.add_argument("slots", metavar="SLOT", nargs="+")

    p = sub.add_parser("rename", parents=[common], help="name the pattern in a slot")
    p.add_argument("slot", metavar="SLOT")
    p.add_argument("name", metavar="NAME")

    p = sub.add_parser(
        "chain",
        parents=[common],
        help="show, set or delete a chain: `chain song A01x4 A02 B01x2` (A01*4 too)",
    )
    p.add_argument("name", metavar="NAME", nargs="?", help="the chain (none: list all chains)")
    p.add_argument(
        "entries",
        metavar="SLOTxN",
        nargs="*",
        help="slots in play order, each with an optional repeat count: A01x4 or 'A01*4'",
    )
    p.add_argument("--delete", action="store_true", help="delete the chain")

    p = sub.add_parser("export", parents=[common], help="write a slot, a chain or all as a .mid")
    p.usage = (
        "autobeat bank export (SLOT | --chain NAME | --all) OUT.mid [--loops N] [--trig-seed N] "
        "[--kit FILE] [--bank FILE]"
    )
    p.add_argument("paths", metavar="[SLOT] OUT.mid", nargs="+", help="a slot and the file")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--chain", metavar="NAME", help="a chain, repeats spelled out")
    what.add_argument("--all", action="store_true", help="every filled slot in slot order")
    p.add_argument("--kit", metavar="FILE", help="a kit map (TOML) for notes and channels")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file that is not a MIDI file")
    p.add_argument("--loops", type=integer(1, 1024), default=1, metavar="N",
                   help="a slot: loops to write, conditional trigs played out (default 1)")
    p.add_argument("--trig-seed", type=SEED, default=0, metavar="N",
                   help="the seed conditional trigs play out from (default 0)")

    p = sub.add_parser("import", parents=[common], help="read a .mid into a slot (or slots)")
    p.add_argument("midi", metavar="IN.mid")
    p.add_argument("--slot", required=True, metavar="SLOT", help="the (first) slot to fill")
    p.add_argument(
        "--windows",
        action="store_true",
        help="every 2-bar window into consecutive slots (else the first 2 bars)",
    )
    p.add_argument("--genre", default="rock", help="genre token of the imported groups")
    p.add_argument("--kit", metavar="FILE", help="a kit map (TOML) the file was written with")
    p.add_argument("--force", action="store_true", help="replace filled slots")

    p = sub.add_parser("restore", parents=[common], help="put back the previous save (NAME.bak)")


def _err(line: str) -> None:  # warnings name slots and files: escaped like the rest
    print(shown(line), file=sys.stderr)



def _path(args: argparse.Namespace) -> Path:
    """The bank file; it, its .bak and its lock are never written over by an export."""
    from patterns.bank import bak_path, default_bank_path, lock_path
    from patterns.files import protect

    path = Path(args.bank) if args.bank else default_bank_path()
    protect(path, "the bank")
    protect(bak_path(path), "the bank's backup")
    protect(lock_path(path), "the bank's lock file")
    return path


def _read(args: argparse.Namespace):
    """The bank for a read-only command (the default bank is made on first use)."""
    from patterns.bank import BankError, load_bank, open_bank

    path = _path(args)
    if not args.bank and not path.exists():
        try:
            bank, warnings, lock = open_bank(None, lock=True)
        except BankError as exc:
            raise _user(exc) from None
        if lock is not None:
            lock.release()
        for w in warnings:
            _err(f"warning: {w}")
        return bank
    try:
        result = load_bank(path)
    except BankError as exc:
        raise _user(exc) from None
    for w in result.warnings:
        _err(f"warning: {w}")
    return result.bank


def _user(exc: Exception):
    from autobeat_tui.errors import UserError

    return UserError(str(exc))


class _Editing:
    """Open the bank with its lock for a command that changes it; save on success."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.path = _path(args)
        self.lock = None

    def __enter__(self):
        from patterns.bank import Bank, BankError, BankLock, load_bank, open_bank

        try:
            if not self.args.bank and not os.path.lexists(self.path):
                _, _, lock = open_bank(None, lock=True)  # makes the default bank
                if lock is not None:
                    lock.release()
            self.lock = BankLock(self.path).acquire()
            if os.path.lexists(self.path):
                result = load_bank(self.path)
                bank, warnings = result.bank, result.warnings
            else:
                bank, warnings = Bank(name=self.path.name.removesuffix(".json")), ()
        except BankError as exc:
            if self.lock is not None:
                self.lock.release()
            raise _user(exc) from None
        for w in warnings:
            _err(f"warning: {w}")
        self.bank = bank
        return self

    def save(self, bank) -> None:
        from patterns.bank import BankError, save_bank

        try:
            save_bank(bank, self.path)
        except BankError as exc:
            raise _user(exc) from None

    def __exit__(self, *exc_info) -> None:
        if self.lock is not None:
            self.lock.release()


def _slot(name: str) -> str:
    from patterns.bank import BankError, check_slot

    try:
        return check_slot(name)
    except BankError as exc:
        raise _user(exc) from None


def _summary(pattern) -> dict:
    from patterns.grid import GROUPS

    return {
        "name": pattern.name,
        "tempo": pattern.tempo,
        "own_tempo": pattern.own_tempo,
        "swing": pattern.swing,
        "events": len(pattern.events),
        "groups": {
            g.name: {
                "events": len(pattern.group_events(g.number)),
                "genre": pattern.params[g.number - 1].genre,
                "type": pattern.params[g.number - 1].type,
                "density": pattern.params[g.number - 1].level("density"),
                "intensity": pattern.params[g.number - 1].level("intensity"),
                "seed": pattern.params[g.number - 1].seed,
                "model": pattern.params[g.number - 1].model,
            }
            for g in GROUPS
        },
    }


def _ls(args: argparse.Namespace) -> int:
    from patterns.grid import GROUPS

    bank = _read(args)
    if args.json:
        print(
            json.dumps(
                {
                    "bank": str(_path(args)),
                    "name": bank.name,
                    "tempo": bank.tempo,
                    "slots": {slot: _summary(p) for slot, p in bank.slots.items()},
                    "unread_slots": list(bank.unread_slots),
                    "chains": {n: [list(e) for e in c.entries] for n, c in bank.chains.items()},
                }
            )
        )
        return 0
    print(f"{shown(_path(args))}: {len(bank.slots)} of 128 slots filled, "
          f"{len(bank.chains)} chains")
    if bank.tempo is not None:
        print(f"tempo {bank.tempo:g} BPM for every slot (bpm marked * is a slot's own)")
    if bank.slots:
        heads = " ".join(f"{g.name:>7}" for g in GROUPS)
        print(f"slot  {'name':<20} {'bpm':>6} {'swing':>5} {'genre':<8} {heads}")
    for slot, p in bank.slots.items():
        counts = " ".join(f"{len(p.group_events(g.number)):>7}" for g in GROUPS)
        bpm = f"{bank.tempo_of(slot):g}" + ("*" if p.own_tempo and bank.tempo is not None else "")
        print(
            f"{slot}   {shown(p.name)[:20]:<20} {bpm:>6} {p.swing:>5g} "
            f"{p.params[0].genre[:8]:<8} {counts}"
        )
    for slot in bank.unread_slots:
        print(f"{shown(slot)}   (unreadable: see the warning; kept in the file as it is)")
    for name, chain in bank.chains.items():
        print(f"chain {shown(name)}: {_chain_text(chain)} ({chain.bars} bars)")
    return 0


def _chain_text(chain) -> str:
    from patterns.bank import chain_text

    return chain_text(chain.entries) or "(empty)"


def _show(args: argparse.Namespace) -> int:
    from autobeat_tui.widgets.layout import grid_lines
    from codec.tokens import header_tokens
    from patterns.grid import GROUPS

    slot = _slot(args.slot)
    bank = _read(args)
    pattern = bank.get(slot)
    if pattern is None:
        raise _user(
            f"slot {slot} is empty"
            + (" (unreadable in the file: see the warning)" if slot in bank.unread_slots else "")
        )
    lines = []
    for g in GROUPS:
        params = pattern.params[g.number - 1]
        tokens = header_tokens(params, g.number)
        for e in pattern.group_events(g.number):
            tokens.append(f"step:{e.step} track:{e.track} offset:{e.offset} velocity:{e.velocity}")
        lines.append(" ".join([*tokens, "end"]))
    if args.tokens:
        print("\n".join(lines))
        return 0
    print(f"{slot}: {shown(pattern.name) or '(no name)'}  {pattern.tempo:g} BPM  "
          f"swing {pattern.swing:g}%")
    for g in GROUPS:
        p = pattern.params[g.number - 1]
        made = f"seed {p.seed}, {shown(p.model) or 'model ?'}" if p.seed is not None \
            else "hand-made"
        print(
            f"  {g.number} {g.name:<8} genre:{p.genre} type:{p.type} density:{p.level('density')} "
            f"intensity:{p.level('intensity')}  ({made})"
        )
    print("\n".join(grid_lines(pattern, shutil.get_terminal_size().columns)))
    return 0


def _copy(args: argparse.Namespace) -> int:
    source, target = _slot(args.source), _slot(args.target)
    with _Editing(args) as ed:
        bank = ed.bank
        pattern = bank.get(source)
        if pattern is None:
            raise _user(f"slot {source} is empty: nothing to copy")
        old = bank.get(target)
        if (old is not None or target in bank.unread_slots) and not args.force:
            what = f"{old.name!r}" if old is not None and old.name else "a pattern"
            raise _user(f"slot {target} holds {what}; add --force to replace it")
        ed.save(bank.with_slot(target, pattern))
    print(f"copied {source} to {target}")
    return 0


def _clear(args: argparse.Namespace) -> int:
    slots = [_slot(s) for s in args.slots]
    with _Editing(args) as ed:
        bank = ed.bank
        empty = [s for s in slots if bank.get(s) is None and s not in bank.unread_slots]
        for s in slots:
            bank = bank.without_slot(s)
        ed.save(bank)
    cleared = [s for s in slots if s not in empty]
    print(
        f"cleared {' '.join(cleared) or 'nothing'}"
        + (f" ({' '.join(empty)} already empty)" if empty else "")
    )
    return 0


def _rename(args: argparse.Namespace) -> int:
    slot = _slot(args.slot)
    with _Editing(args) as ed:
        bank = ed.bank
        pattern = bank.get(slot)
        if pattern is None:
            raise _user(f"slot {slot} is empty: nothing to rename")
        ed.save(bank.with_slot(slot, pattern.with_name(args.name)))
    print(f"{slot} is now {args.name!r}")
    return 0


def _parse_entries(texts: list[str]) -> tuple[tuple[str, int], ...]:
    from patterns.bank import BankError, chain_entry

    try:
        return tuple(chain_entry(text) for text in texts)
    except BankError as exc:
        raise _user(exc) from None


def _chain(args: argparse.Namespace) -> int:
    from patterns.bank import BankError, Chain

    if args.name is None:
        bank = _read(args)
        for name, chain in bank.chains.items():
            print(f"{name}: {_chain_text(chain)} ({chain.bars} bars)")
        if not bank.chains:
            print("no chains")
        return 0
    if not args.entries and not args.delete:
        bank = _read(args)
        try:
            chain = bank.chain(args.name)
        except BankError as exc:
            raise _user(exc) from None
        print(f"{chain.name}: {_chain_text(chain)} ({chain.bars} bars)")
        return 0
    if args.delete and args.entries:
        raise _user("give either entries or --delete, not both")
    with _Editing(args) as ed:
        bank = ed.bank
        try:
            if args.delete:
                ed.save(bank.without_chain(args.name))
                print(f"deleted chain {args.name!r}")
                return 0
            chain = Chain(args.name, _parse_entries(args.entries))
        except BankError as exc:
            raise _user(exc) from None
        empty = [s for s, _ in chain.entries if bank.get(s) is None]
        ed.save(bank.with_chain(chain))
    print(f"{chain.name}: {_chain_text(chain)} ({chain.bars} bars)")
    if empty:
        _err(f"note: {' '.join(dict.fromkeys(empty))} empty: played as 2 bars of rest")
    return 0


def _export(args: argparse.Namespace) -> int:
    from patterns.bank import BankError
    from patterns.bank_midi import export_all, export_chain, export_slot

    whole = args.all or args.chain is not None
    if len(args.paths) != (1 if whole else 2):
        raise _user("export takes SLOT OUT.mid, --chain NAME OUT.mid or --all OUT.mid")
    args.out = args.paths[-1]
    args.slot = None if whole else args.paths[0]
    kit = load_kit(args.kit)
    bank = _read(args)
    try:
        if args.all:
            export_all(bank, args.out, kit, force=args.force)
            what = f"{len(bank.slots)} slots ({len(bank.slots) * 2} bars)"
        elif args.chain:
            export_chain(bank, args.chain, args.out, kit, force=args.force)
            chain = bank.chain(args.chain)
            what = f"chain {args.chain!r} ({chain.bars} bars)"
        else:
            slot = _slot(args.slot)
            export_slot(bank, slot, args.out, kit, force=args.force, loops=args.loops,
                        seed=args.trig_seed)
            what = f"slot {slot} ({2 * args.loops} bars)"
    except BankError as exc:
        raise _user(exc) from None
    print(f"wrote {what} to {args.out}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from patterns.bank import BankError
    from patterns.bank_midi import import_midi

    kit = load_kit(args.kit)
    slot = _slot(args.slot)
    with _Editing(args) as ed:
        bank = ed.bank
        try:
            result = import_midi(bank, args.midi, slot, args.windows, kit, args.genre)
        except BankError as exc:
            raise _user(exc) from None
        taken = [s for s in result.slots if bank.get(s) is not None or s in bank.unread_slots]
        if taken and not args.force:
            raise _user(
                f"{' '.join(taken)} already filled; add --force to replace, or pick "
                f"another --slot (next free: {bank.next_free(slot) or 'none'})"
            )
        ed.save(result.bank)
    slots = result.slots
    span = slots[0] if len(slots) == 1 else f"{slots[0]}..{slots[-1]}"
    print(f"imported {len(slots)} pattern{'s' if len(slots) != 1 else ''} into {span}")
    if result.dropped:
        _err("note: the file goes on past H16; the rest was not imported")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from patterns.bank import BankError, BankLock, bak_path, load_bank
    from patterns.bank_write import write_atomic
    from patterns.files import FileError, read_user_file
    from patterns.files import write_atomic as write_file

    path = _path(args)
    bak = bak_path(path)
    try:
        with BankLock(path):
            result = load_bank(bak)
            data = read_user_file(bak, "bank")
            if path.exists():
                kept = path.with_name(f"{path.name}.replaced-{os.getpid()}")
                write_file(kept, read_user_file(path, "bank"), what="bank")
            else:
                kept = None
            write_atomic(path, data, keep_backup=False)
    except (BankError, FileError, OSError) as exc:
        raise _user(exc) from None
    print(f"restored {path} from {bak.name} ({len(result.bank.slots)} slots)")
    if kept is not None:
        print(f"the file it replaced is kept as {kept.name}")
    return 0


_ACTIONS = {
    "ls": _ls, "show": _show, "copy": _copy, "clear": _clear, "rename": _rename,
    "chain": _chain, "export": _export, "import": _import, "restore": _restore,
}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    return _ACTIONS[args.action](args)
