"""`autobeat send LINE...` / `autobeat send -`: run command lines on the running host."""

from __future__ import annotations

import argparse
import sys

NAME = "send"
HELP = "run command lines on the running host and print the answers ('-': read stdin)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lines", nargs="+", metavar="LINE",
                        help="a command line, as typed after ':' in the app; '-' reads "
                        "lines from standard input")
    parser.add_argument("--bank", metavar="FILE",
                        help="the host of this bank (default: the default bank's, or the "
                        "only one running)")


def _lines(args: argparse.Namespace):
    """Each command line to run: an argument may hold several (an editor's selection);
    a leading ':' is dropped, as in a paste; blank lines and # comments are skipped."""
    for arg in args.lines:
        for text in (sys.stdin if arg == "-" else arg.splitlines()):
            text = text.strip().removeprefix(":").strip()
            if text and not text.startswith("#"):
                yield text


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from autobeat_tui.host.client import HostClient, HostUnavailable, host_socket

    try:
        host = HostClient.connect(host_socket(args.bank), role="send")
    except HostUnavailable as exc:
        raise UserError(str(exc)) from None
    status = 0
    with host:
        for line in _lines(args):
            try:
                ok, text = host.run(line)
            except (OSError, HostUnavailable, ValueError) as exc:
                raise UserError(f"the host went away: {exc}") from None
            if ok:
                print(text, flush=True)
            else:
                print(text, file=sys.stderr, flush=True)
                status = 2
                break  # as a paste in the app: the lines after a refused one do not run
    return status
