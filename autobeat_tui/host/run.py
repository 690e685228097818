"""Start a host: in this process (`autobeat host --foreground`), or detached from the
terminal (`autobeat host`, and the app when no host runs for its bank)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from autobeat_tui.errors import UserError
from autobeat_tui.host import protocol as p

START_TIMEOUT_S = 30.0


def log_path(bank_path: Path) -> Path:
    return p.runtime_dir() / f"host-{p.bank_key(bank_path)}.log"


def build_core(args: argparse.Namespace):
    """(core, bank path, lock): the session, engine and model a host owns."""
    from autobeat_tui.commands._options import model_threads
    from autobeat_tui.commands.app import checked_options
    from autobeat_tui.host.core import HostCore
    from autobeat_tui.host.recovery import Recovery
    from autobeat_tui.live.session import Session
    from autobeat_tui.settings import Settings, SettingsError, default_path
    from codec.midi import write_midi
    from engine import ports
    from engine.client import Engine
    from engine.drumkit import kit_problems
    from patterns.bank import BankError, BankLockedError, default_bank_path, open_bank, save_bank
    from patterns.pattern import Pattern

    kit = checked_options(args)
    bank_path = Path(args.bank) if args.bank else default_bank_path()
    try:
        bank, warnings, lock = open_bank(args.bank)
    except BankLockedError as exc:  # one host (or app) per bank
        raise UserError(f"{exc} (autobeat hosts lists the running hosts)") from None
    except BankError as exc:
        raise UserError(str(exc)) from None
    messages = list(warnings)
    try:
        settings = Settings.load()
    except SettingsError as exc:
        messages.append(f"{exc}; latency offsets are not kept this run")
        settings = Settings(default_path())
        settings.save = lambda: None
    filled = bank.filled()
    slot = filled[0] if filled else "A01"
    session = Session(bank.get(slot) or Pattern(), bank=bank, bank_path=bank_path,
                      bank_writable=lock is not None, save_bank=save_bank,
                      write_midi=write_midi, kit=kit, slot=slot)
    session.clock_in = args.clock_in
    if args.clock_in:
        session.clock_mode = "follow"
    elif args.clock == "link":
        session.clock_mode = "link"
    recovery = Recovery(bank_path) if lock is not None else None
    if recovery is not None:
        restored = recovery.take(session)
        if restored:
            messages.append(restored)
    messages += kit_problems(args.kit_dir)
    engine = Engine(out=args.out, clock_in=args.clock_in, kit=kit, external=bool(args.clock_in),
                    link=args.clock == "link", audio="auto" if args.out is None else "off",
                    kit_dir=args.kit_dir)
    model_path = args.model

    def load_model():
        from models.runner import BeatModel

        return BeatModel.load(model_path, n_threads=model_threads())

    core = HostCore(session, engine, None if args.model == "none" else load_model,
                    recovery=recovery, settings=settings, latency_ms=args.latency,
                    list_outputs=ports.list_outputs, kit_dir=args.kit_dir,
                    startup_messages=tuple(messages))
    return core, bank_path, lock


OPTIONS = ("out", "clock", "clock_in", "model", "kit", "latency", "kit_dir")


def session_options(args: argparse.Namespace) -> dict:
    """The session options given on a command line (those left out are not there)."""
    given = {name: getattr(args, name, None) for name in OPTIONS}
    if given["clock"] == "internal":
        given["clock"] = None  # the default
    return {name: value for name, value in given.items() if value is not None}


def serve(args: argparse.Namespace) -> int:
    """Run a host in this process until it is stopped."""
    import signal

    from autobeat_tui.host.server import HostExists, HostServer

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # from the start: the terminal may go now
    core, bank_path, lock = build_core(args)
    server = HostServer(core, p.socket_path(bank_path),
                        {"bank": str(bank_path), "pid": os.getpid(),
                         "options": session_options(args)})
    try:
        try:
            server.open()
        except HostExists as exc:
            raise UserError(str(exc)) from None
        server.install_signals()
        core.start()
        print(f"autobeat host: {bank_path} on {server.path} (pid {os.getpid()})", flush=True)
        server.serve()
    finally:
        server.close()
        core.close()
        if lock is not None:
            lock.release()
    print(f"autobeat host: stopped ({server.stop_reason})", flush=True)
    return 0


def host_argv(args: argparse.Namespace) -> list[str]:
    """The command line of a foreground host with the same options."""
    argv = [sys.executable, "-m", "autobeat_tui.cli", "host", "--foreground"]
    for option in ("bank", "out", "clock_in", "model", "kit", "latency", "kit_dir"):
        value = getattr(args, option, None)
        if value is not None:
            argv += [f"--{option.replace('_', '-')}", str(value)]
    if getattr(args, "clock", "internal") != "internal":
        argv += ["--clock", args.clock]
    return argv


class Starting:
    """A host started in a session of its own (it outlives this terminal), perhaps not
    answering yet: ``wait`` until it does (the app meanwhile gets ready)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from patterns.bank import default_bank_path

        bank_path = Path(args.bank) if args.bank else default_bank_path()
        self.sock = p.socket_path(bank_path)
        self.log = log_path(bank_path)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                host_argv(args), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, close_fds=True,
            )
        self.info: dict | None = None

    def wait(self, timeout: float = START_TIMEOUT_S) -> dict:
        """Its hello once it answers. A host that fails to start: UserError with its
        last line."""
        from autobeat_tui.host.client import HostClient, HostUnavailable

        if self.info is not None:
            return self.info
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                lines = self.log.read_text(errors="replace").strip().splitlines()
                last = lines[-1].removeprefix("autobeat host: ") if lines else ""
                raise UserError(last or f"the host exited ({self.process.returncode}); "
                                f"log: {self.log}")
            try:
                with HostClient.connect(self.sock, role="info", timeout=1.0) as host:
                    self.info = host.info
                    return self.info
            except HostUnavailable:
                time.sleep(0.01)
        raise UserError(f"the host did not answer within {timeout:g} s (log: {self.log})")


def start_detached(args: argparse.Namespace) -> dict:
    """Start a host (see Starting) and wait until it answers; its hello."""
    return Starting(args).wait()
