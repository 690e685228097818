"""The `autobeat` command line.

Each subcommand lives in its own module under autobeat_tui/commands/ with
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; they are
found at start-up, so adding a command touches no other file. Modules keep their
heavy imports (model, engine, app) inside ``run`` so `autobeat --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from autobeat_tui import __version__, commands
from autobeat_tui.commands._numbers import Parser, guard_parser
from autobeat_tui.errors import UserError, shown


def _command_modules():
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            yield module


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser. With `selected`, only that command's arguments are built (the others
    are listed by name and help), so starting one command imports nothing of the others.
    """
    parser = Parser(
        prog="autobeat",
        description="A terminal drum sequencer with an on-device beat model. "
        "With no command, opens the app on a session host that keeps playing when the "
        "terminal goes (Ctrl+Q detaches, autobeat stop stops it).",
    )
    parser.add_argument("--version", action="version", version=f"autobeat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        if selected is None or selected == module.NAME:
            module.add_arguments(p)
        p.set_defaults(_run=module.run, _parser=p)
    guard_parser(parser)  # every number: finite and in range, named in the error
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("--") and argv[0] not in ("--help", "--version"):
        argv = ["app", *argv]
    parser = build_parser(selected=argv[0] if not argv[0].startswith("-") else "")
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"autobeat {args.command}: {shown(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
