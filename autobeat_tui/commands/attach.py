"""`autobeat attach`: the app on the bank's session host (started if none runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from autobeat_tui.commands import app as app_command

NAME = "attach"
HELP = "open the app on the bank's session host, starting one if none runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    app_command.add_session_arguments(parser)  # used when a host has to be started


def attach(args: argparse.Namespace, start: bool = True) -> int | None:
    """Run the attached app; None (nothing done) when no host runs for the bank and
    `start` is off."""

    from autobeat_tui.errors import UserError
    from autobeat_tui.host import protocol as p
    from autobeat_tui.host.client import HostClient, HostUnavailable
    from patterns.bank import default_bank_path

    bank_path = Path(args.bank) if args.bank else default_bank_path()
    sock = p.socket_path(bank_path)
    try:
        HostClient.connect(sock, role="info", timeout=2.0).close()
    except HostUnavailable:
        if not start:
            return None
        from autobeat_tui.host.run import start_detached

        start_detached(args)
    from autobeat_tui.attach import DETACHED, STOPPED, AttachedApp
    from engine import ports

    app = AttachedApp(lambda role: HostClient.connect(sock, role=role),
                      bank_label=bank_path.name, list_outputs=ports.list_outputs,
                      list_inputs=ports.list_inputs)
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
