"""`autobeat app` (also `autobeat` with no command): the terminal app."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from autobeat_tui.commands._options import load_kit

NAME = "app"
HELP = "open the terminal app (the default when no command is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bank", metavar="FILE", help="the bank file to open (default: your default bank)"
    )
    parser.add_argument(
        "--out",
        metavar="NAME",
        help="MIDI output: the first whose name contains NAME (default: a virtual "
        "'AutoBeat out'; 'none' for no output)",
    )
    parser.add_argument(
        "--clock-in", metavar="NAME", help="MIDI input to follow clock from (starts following it)"
    )
    parser.add_argument(
        "--model", metavar="FILE", help="the GGUF beat model (default: the shipped one)"
    )
    parser.add_argument("--kit", metavar="FILE", help="a kit map (TOML); default General MIDI")


def open_session_bank(path: str | None):
    """(bank, path, writable, lock, messages): never raises for a bank problem."""
    from patterns.bank import Bank, BankError, BankLockedError, default_bank_path, open_bank

    bank_path = Path(path) if path else default_bank_path()
    try:
        bank, warnings, lock = open_bank(path)
        return bank, bank_path, True, lock, list(warnings)
    except BankLockedError as exc:
        try:
            bank, warnings, _ = open_bank(path, lock=False)
        except BankError as inner:
            return Bank(), bank_path, False, None, [str(exc), str(inner)]
        return bank, bank_path, False, None, [f"{exc}; opened read-only", *warnings]
    except BankError as exc:
        return Bank(), bank_path, False, None, [f"{exc}; saving is off"]


def model_threads(cpus: int | None = None) -> int:
    """llama.cpp threads for the app: one core stays free for the screen and the engine.

    On a busy 2-core machine two spinning compute threads made one group take
    seconds instead of 30 ms; one thread leaves the other core to the UI.
    """
    cpus = cpus or os.cpu_count() or 2
    return max(1, min(4, cpus - 1))


def build_app(args: argparse.Namespace):
    """The app, its engine and the bank lock, from the command line's options."""
    from autobeat_tui.app import AutoBeatApp
    from autobeat_tui.live.session import Session
    from codec.midi import write_midi
    from engine import ports
    from engine.client import Engine
    from patterns.bank import save_bank
    from patterns.pattern import Pattern

    kit = load_kit(args.kit)
    bank, bank_path, writable, lock, messages = open_session_bank(args.bank)
    filled = bank.filled()
    slot = filled[0] if filled else "A01"
    session = Session(
        bank.get(slot) or Pattern(),
        bank=bank,
        bank_path=bank_path,
        bank_writable=writable,
        save_bank=save_bank,
        write_midi=write_midi,
        kit=kit,
        slot=slot,
    )
    restored = session.take_recovery() if writable else None
    if restored:
        messages = [*messages, restored]
    session.clock_in = args.clock_in
    if args.clock_in:
        session.clock_mode = "follow"
    engine = Engine(out=args.out, clock_in=args.clock_in, kit=kit, external=bool(args.clock_in))
    model_path = args.model

    def load_model():
        from models.runner import BeatModel

        return BeatModel.load(model_path, n_threads=model_threads())

    app = AutoBeatApp(
        session,
        engine,
        load_model,
        bank_label=bank_path.name,
        startup_errors=messages,
        list_outputs=ports.list_outputs,
        list_inputs=ports.list_inputs,
        start_engine=False,
    )
    return app, engine, lock


def run(args: argparse.Namespace) -> int:
    app, engine, lock = build_app(args)
    try:
        # Started before the app takes over the terminal: a spawned process wants the
        # real stderr (Textual captures it), and start() returns at once.
        engine.start()
        app.run()
    finally:
        engine.stop()
        app.close_model()
        if lock is not None:
            lock.release()
    return app.return_code or 0
