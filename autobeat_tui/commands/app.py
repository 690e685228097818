"""`autobeat app` (also `autobeat` with no command): the terminal app."""

from __future__ import annotations

import argparse

NAME = "app"
HELP = "open the terminal app (the default when no command is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bank", metavar="FILE", help="the bank file to open")
    parser.add_argument("--out", metavar="NAME", help="MIDI output (first whose name contains NAME)")
    parser.add_argument("--clock-in", metavar="NAME", help="MIDI input to follow clock from")
    parser.add_argument("--model", metavar="FILE", help="the GGUF beat model")
    parser.add_argument("--kit", metavar="FILE", help="a kit map (TOML)")


def run(args: argparse.Namespace) -> int:
    print(
        "AutoBeat TUI: the terminal app is not built yet.\n"
        "What is here now:\n"
        "  autobeat dataset DATA_DIR --out DIR   build the training corpus from MIDI files\n"
        "Run `autobeat --help` for every command."
    )
    return 0
