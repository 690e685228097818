"""`autobeat render SLOT|FILE OUT.wav`: a pattern through the built-in kit into a WAV file.

SLOT is a slot of the bank (``--bank FILE``, else your default bank); FILE is what
`autobeat play` takes (.mid, bank file, token text). The render is offline,
deterministic (the same input gives the same bytes) and faster than real time;
the file appears whole or not at all.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

NAME = "render"
HELP = "render a slot or pattern file to a WAV file through the built-in kit (or --kit-dir)"
DEFAULT_BARS = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SLOT|FILE",
                        help="a bank slot (A01..H16) or a .mid, bank or token text file")
    parser.add_argument("out", metavar="OUT.wav", help="the WAV file to write")
    parser.add_argument("--bars", type=int, default=DEFAULT_BARS, metavar="N",
                        help=f"how many bars (default {DEFAULT_BARS}: the 2-bar pattern 4 times)")
    parser.add_argument("--bank", metavar="FILE", help="the bank SLOT is in (default: yours)")
    parser.add_argument("--kit-dir", metavar="DIR",
                        help="a folder of WAV files named after the tracks (kick.wav ...)")
    parser.add_argument("--rate", type=int, default=48000, metavar="HZ",
                        help="sample rate (default 48000)")
    parser.add_argument("--bpm", type=float, metavar="BPM", help="tempo (default: the pattern's)")


def is_slot(text: str) -> bool:
    from patterns.bank import BankError, check_slot

    try:
        check_slot(text.upper())
    except BankError:
        return False
    return True


def source_pattern(source: str, bank_file: str | None):
    """The pattern a SLOT|FILE argument names, or a one-line UserError."""
    from autobeat_tui.commands.play import load_pattern
    from autobeat_tui.errors import UserError

    if is_slot(source) and not Path(source).exists():
        from autobeat_tui.commands.bank import _read

        bank = _read(argparse.Namespace(bank=bank_file))
        pattern = bank.get(source.upper())
        if pattern is None:
            where = bank_file or "your default bank"
            raise UserError(f"slot {source.upper()} of {where} is empty")
        return pattern
    if not Path(source).exists():
        raise UserError(f"{source}: no such file, and not a slot (A01..H16)")
    return load_pattern(source)


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from engine.render import MAX_BARS, RATES, RenderError, render_to_file

    if not 1 <= args.bars <= MAX_BARS:
        raise UserError(f"--bars must be in 1..{MAX_BARS}, got {args.bars}")
    if args.rate not in RATES:
        raise UserError(f"--rate must be one of {', '.join(map(str, RATES))}, got {args.rate}")
    if not args.out.lower().endswith(".wav"):
        raise UserError(f"the output must end in .wav, got {args.out!r}")
    pattern = source_pattern(args.source, args.bank)
    if args.bpm is not None:
        if not 20 <= args.bpm <= 300:
            raise UserError(f"--bpm must be in 20..300, got {args.bpm:g}")
        pattern = pattern.with_tempo(args.bpm)
    started = time.perf_counter()
    try:
        result, problems = render_to_file(pattern, args.out, args.bars, args.rate, args.kit_dir)
    except RenderError as exc:
        raise UserError(str(exc)) from None
    took = time.perf_counter() - started
    for line in problems:
        print(f"autobeat render: {line}", file=sys.stderr)
    seconds = len(result.samples) / args.rate
    print(f"wrote {args.bars} bars at {pattern.tempo:g} BPM ({seconds:.2f} s, "
          f"{len(result.hits)} hits) to {args.out} in {took:.2f} s")
    return 0
