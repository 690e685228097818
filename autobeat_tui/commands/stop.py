"""`autobeat stop`: stop a session host (the music stops; nothing is saved)."""

from __future__ import annotations

import argparse

NAME = "stop"
HELP = "stop the session host of a bank (the music stops; unsaved work stays recoverable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bank", metavar="FILE",
                        help="the host of this bank (default: the default bank's, or the "
                        "only one running)")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from autobeat_tui.host.client import HostClient, HostUnavailable, host_socket

    try:
        with HostClient.connect(host_socket(args.bank), role="send") as host:
            bank = host.info.get("bank")
            text = host.stop_host()
    except HostUnavailable as exc:
        raise UserError(str(exc)) from None
    print(f"{bank}: {text}")
    return 0
