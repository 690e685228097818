"""`autobeat attach`: the app on the bank's session host (started if none runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from autobeat_tui.commands import app as app_command

NAME = "attach"
HELP = "open the app on the bank's session host, starting one if none runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    app_command.add_session_arguments(parser)  # used when a host has to be started


OPTION_NAMES = {"out": "--out", "clock": "--clock", "clock_in": "--clock-in",
                "model": "--model", "kit": "--kit", "latency": "--latency",
                "kit_dir": "--kit-dir"}


def options_not_taken(args: argparse.Namespace, info: dict, bank_name: str) -> str:
    """One line naming the options given here that the running host plays without
    (it keeps its own until it stops); "" when there are none."""
    from autobeat_tui.host.run import session_options

    if "options" not in info:
        return ""
    host = info["options"]
    given = session_options(args)
    differ = [name for name, value in given.items() if host.get(name) != value]
    if not differ:
        return ""
    wanted = " ".join(f"{OPTION_NAMES[n]} {given[n]}" for n in differ)
    has = ", ".join(f"{OPTION_NAMES[n]} {host[n]}" if n in host else f"no {OPTION_NAMES[n]}"
                    for n in differ)
    return (f"the host of {bank_name} already runs ({has}), so {wanted} is not taken: "
            "autobeat stop, then autobeat with them starts a host that takes them")


def attach(args: argparse.Namespace, start: bool = True) -> int | None:
    """Run the app on the bank's host; None (nothing done) when no host runs for the
    bank and `start` is off. A host that has to be started starts while the app gets
    ready, and the app waits for it."""

    from autobeat_tui.errors import UserError
    from autobeat_tui.host import protocol as p
    from autobeat_tui.host.client import HostClient, HostUnavailable
    from patterns.bank import default_bank_path

    bank_path = Path(args.bank) if args.bank else default_bank_path()
    sock = p.socket_path(bank_path)
    starting = None
    warnings: tuple[str, ...] = ()
    try:
        with HostClient.connect(sock, role="info", timeout=2.0) as running:
            line = options_not_taken(args, running.info, bank_path.name)
            warnings = (line,) if line else ()
    except HostUnavailable:
        if not start:
            return None
        from autobeat_tui.host.run import Starting

        app_command.checked_options(args)  # a bad option: one line, before any screen
        starting = Starting(args)
    from autobeat_tui.attach import DETACHED, STOPPED, AttachedApp, HostNotStarted
    from engine import ports

    def connect(role: str) -> HostClient:
        if starting is not None:
            try:
                starting.wait()
            except UserError as exc:
                raise HostNotStarted(str(exc)) from None
        return HostClient.connect(sock, role=role)

    app = AttachedApp(connect, bank_label=bank_path.name, list_outputs=ports.list_outputs,
                      list_inputs=ports.list_inputs, startup_warnings=warnings)
    try:
        app.run()
    finally:
        app.close_connections()
    if app.outcome == DETACHED:
        print(f"detached: the host of {bank_path} plays on (pid in autobeat hosts); "
              "autobeat attach comes back, autobeat stop stops it")
    elif app.outcome == STOPPED:
        print(f"stopped the host of {bank_path}; the music is off")
    else:
        raise UserError(app.outcome)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list_genres:
        return app_command.list_genres(args.model)
    return attach(args) or 0
