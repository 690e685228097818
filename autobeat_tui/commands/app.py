"""`autobeat app` (also `autobeat` with no command): the terminal app.

By default the session runs in a host process (autobeat_tui/host) that keeps playing
when the terminal goes: the app attaches to the bank's host, or starts one (as
`autobeat attach`). `--here` runs the session in this process, as before hosts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autobeat_tui.commands._options import load_kit, load_model, model_threads

NAME = "app"
HELP = ("open the terminal app on the bank's session host, starting one (the default "
        "when no command is given; --here: the session in this process)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_session_arguments(parser)
    parser.add_argument(
        "--here", action="store_true",
        help="run the session in this process, not on a session host: it ends with the "
        "terminal (read-only while a host plays the bank)",
    )


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a session (the app's, a host's)."""
    parser.add_argument(
        "--bank", metavar="FILE", help="the bank file to open (default: your default bank)"
    )
    parser.add_argument(
        "--out",
        metavar="NAME",
        help="MIDI output: the first whose name contains NAME; 'audio' for the sound card "
        "(built-in kit), 'audio+NAME' for both, 'none' for no output (default: the sound "
        "card where there is one, and a virtual MIDI output 'AutoBeat out')",
    )
    parser.add_argument(
        "--clock-in", metavar="NAME", help="MIDI input to follow clock from (starts following it)"
    )
    parser.add_argument(
        "--clock", choices=("internal", "link"), default="internal",
        help="link: join the Ableton Link session (tempo, bar, start/stop) from the start",
    )
    parser.add_argument(
        "--model", metavar="FILE", help="the GGUF beat model (default: the shipped one)"
    )
    parser.add_argument("--kit", metavar="FILE", help="a kit map (TOML); default General MIDI")
    parser.add_argument(
        "--list-genres", action="store_true", help="list the model's genres and exit"
    )
    parser.add_argument(
        "--latency", type=float, metavar="MS",
        help="send MS (-100..100) earlier to the output this run (default: the offset "
        ":latency keeps for it)",
    )
    parser.add_argument("--kit-dir", metavar="DIR",
                        help="WAV files replacing the built-in kit's sounds (kick.wav ...)")


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


def checked_options(args: argparse.Namespace):
    """The kit map, once --kit, --latency and the clock options are checked (UserError):
    the same for the app and for a session host."""
    from autobeat_tui.errors import UserError
    from autobeat_tui.settings import check_latency

    kit = load_kit(args.kit)
    if args.latency is not None:
        try:
            check_latency(args.latency)
        except ValueError as exc:
            raise UserError(f"--latency: {exc}") from None
    if args.clock == "link" and args.clock_in:
        raise UserError("--clock link and --clock-in both set the clock: give one")
    return kit


def build_app(args: argparse.Namespace):
    """The app, its engine and the bank lock, from the command line's options."""
    from autobeat_tui.app import AutoBeatApp
    from autobeat_tui.live.session import Session
    from autobeat_tui.settings import Settings, SettingsError, default_path
    from codec.midi import write_midi
    from engine import ports
    from engine.client import Engine
    from patterns.bank import save_bank
    from patterns.pattern import Pattern

    kit = checked_options(args)
    bank, bank_path, writable, lock, messages = open_session_bank(args.bank)
    try:
        settings = Settings.load()
    except SettingsError as exc:  # said in the app; nothing is kept this run
        messages.append(f"{exc}; latency offsets are not kept this run")
        settings = Settings(default_path())
        settings.save = lambda: None  # never overwrite a file we could not read
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
    link = args.clock == "link"
    if args.clock_in:
        session.clock_mode = "follow"
    elif link:
        session.clock_mode = "link"
    from engine.drumkit import kit_problems

    messages += kit_problems(args.kit_dir)
    # no MIDI output chosen: the sound card too, where there is one
    engine = Engine(out=args.out, clock_in=args.clock_in, kit=kit, external=bool(args.clock_in),
                    link=link, audio="auto" if args.out is None else "off", kit_dir=args.kit_dir)
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
        settings=settings,
        latency_ms=args.latency,
        kit_dir=args.kit_dir,
    )
    return app, engine, lock


def list_genres(model_path: str | None) -> int:
    """`autobeat --list-genres` (as `autobeat generate --list-genres`)."""
    model = load_model(model_path)
    try:
        print("\n".join(model.genres))
    finally:
        model.close()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list_genres:
        return list_genres(args.model)
    if not args.here:  # the app on the bank's host, started if none runs
        from autobeat_tui.commands.attach import attach

        return attach(args) or 0
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
