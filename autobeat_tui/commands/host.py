"""`autobeat host`: start the session host of a bank, detached from the terminal."""

from __future__ import annotations

import argparse

from autobeat_tui.commands import app as app_command

NAME = "host"
HELP = "start the session host of a bank: it keeps playing when the terminal goes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    app_command.add_session_arguments(parser)
    parser.add_argument("--foreground", action="store_true",
                        help="run in this terminal (Ctrl+C stops it) instead of detached")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.host import run as host_run

    if args.list_genres:
        return app_command.list_genres(args.model)

    if args.foreground:
        return host_run.serve(args)
    info = host_run.start_detached(args)
    print(f"host for {info.get('bank')} running (pid {info.get('pid')}); "
          "autobeat send LINE drives it, autobeat stop stops it")
    return 0
