"""`autobeat generate`: write a group or a whole beat with the model, print its tokens.

``--type fill --context A01|FILE.mid`` writes a fill for a groove instead: the
groove (a bank slot, from --bank or the default bank, or a MIDI file's first 2
bars) with its bar 2 (or --fill-bar 1) played as a fill that leads into the 1
(``BeatModel.fill``); all four groups are printed.
"""

from __future__ import annotations

import argparse
import secrets
import shutil

from autobeat_tui.commands._numbers import BPM, SEED, THREADS, number
from autobeat_tui.commands._options import THREADS_HELP, load_model

NAME = "generate"
HELP = "generate a group (or a full beat) with the beat model; print its tokens, write MIDI"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from models.limits import DEFAULT_TEMPERATURE, MAX_SEED, MAX_TEMPERATURE, MIN_TEMPERATURE
    from patterns.pattern import LEVEL_CHOICES

    parser.add_argument("--model", metavar="FILE.gguf", help="default: the shipped model")
    parser.add_argument("--genre", default="rock", help="genre (see --list-genres); default rock")
    parser.add_argument("--type", default="beat", choices=("beat", "fill"))
    parser.add_argument("--density", default="auto", choices=LEVEL_CHOICES,
                        help="events in the group; auto (default): drawn the way drummers "
                             "play the genre, fitting the other groups")
    parser.add_argument("--intensity", default="auto", choices=LEVEL_CHOICES,
                        help="share of events off the beat; auto (default) as --density")
    parser.add_argument("--group", default="all", metavar="1..4|all",
                        help="the group to generate, or all four (default)")
    parser.add_argument("--seed", type=SEED, help=f"random seed 0..{MAX_SEED} (default: drawn)")
    parser.add_argument("--temperature", type=number(MIN_TEMPERATURE, MAX_TEMPERATURE),
                        default=DEFAULT_TEMPERATURE,
                        help=f"{MIN_TEMPERATURE:g}..{MAX_TEMPERATURE:g} (default "
                        f"{DEFAULT_TEMPERATURE}; higher: wilder)")
    parser.add_argument("--top-p", type=number(0, 1, above=True),
                        default=0.95, help="nucleus sampling 0..1")
    parser.add_argument("--context", metavar="FILE.mid|SLOT",
                        help="a MIDI file whose first 2 bars are the other groups' context, or "
                             "a bank slot (A01); with --type fill: the groove to write a fill for")
    parser.add_argument("--bank", metavar="FILE",
                        help="the bank a --context slot is read from (default: the default bank)")
    parser.add_argument("--fill-bar", type=int, choices=(1, 2), default=2,
                        help="with --type fill: the bar played as a fill (default 2)")
    parser.add_argument("--tempo", type=BPM, default=None, help="tempo of the MIDI file, BPM")
    parser.add_argument("--out", metavar="FILE.mid", help="write the pattern as a MIDI file")
    parser.add_argument("--force", action="store_true",
                        help="let --out replace an existing file that is not a MIDI file")
    parser.add_argument("--threads", type=THREADS, default=None, help=THREADS_HELP)
    parser.add_argument("--grid", action="store_true",
                        help="also print the pattern as a grid, drawn as the app draws it")
    parser.add_argument("--list-genres", action="store_true", help="list the model's genres")


def _context(text: str, bank_file: str | None):
    """The --context pattern: a bank slot (A01) or a MIDI file."""
    import re

    from autobeat_tui.errors import UserError
    from codec.midi import midi_to_pattern

    if re.fullmatch(r"[A-Ha-h](0?[1-9]|1[0-6])", text):
        from patterns.bank import BankError, check_slot, default_bank_path, load_bank

        path = bank_file or default_bank_path()
        try:
            slot = check_slot(text.upper())
            pattern = load_bank(path).bank.get(slot)
        except BankError as exc:
            raise UserError(str(exc)) from None
        if pattern is None:
            raise UserError(f"{path}: slot {slot} is empty: nothing to write a fill for")
        return pattern
    if bank_file:
        raise UserError("--bank is for a --context slot (A01), not a MIDI file")
    return midi_to_pattern(text)


def _group(text: str) -> int | None:
    from autobeat_tui.errors import UserError

    if text == "all":
        return None
    try:
        group = int(text)
    except ValueError:
        group = 0
    if not 1 <= group <= 4:
        raise UserError(f"--group must be in 1..4 or all, got {text!r}")
    return group


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from codec.errors import CodecError
    from codec.midi import write_midi
    from codec.tokens import encode_text
    from models.runner import ModelError
    from patterns.grid import GROUPS
    from patterns.pattern import GroupParams, Pattern, PatternError

    if args.list_genres:
        from autobeat_tui.commands.app import list_genres

        return list_genres(args.model)
    group = _group(args.group)
    if args.out:  # refused before the model runs, not after
        from patterns.files import FileError, check_overwrite

        try:
            check_overwrite(args.out, magic=b"MThd", force=args.force, what="MIDI file")
        except FileError as exc:
            raise UserError(str(exc)) from None
    model = load_model(args.model, args.threads)
    try:
        seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
        try:
            asked = [GroupParams(genre=args.genre, type=args.type)
                     .with_level("density", args.density)
                     .with_level("intensity", args.intensity) for _g in GROUPS]
            pattern = _context(args.context, args.bank) if args.context else Pattern()
            if args.tempo is not None:
                pattern = pattern.with_tempo(args.tempo)
        except (PatternError, CodecError) as exc:
            raise UserError(str(exc)) from None
        try:
            if args.type == "fill" and args.context:
                pattern = model.fill(pattern, args.fill_bar - 1, seed, args.temperature,
                                     args.top_p)
                groups = [1, 2, 3, 4]
            elif group is None:
                pattern = model.generate_all(pattern, asked, seed, args.temperature,
                                             args.top_p)
                groups = [1, 2, 3, 4]
            else:
                pattern = model.generate_group(pattern, group, asked[group - 1], seed,
                                               args.temperature,
                                               args.top_p)
                groups = [group]
        except ModelError as exc:
            raise UserError(str(exc)) from None
        print(f"# model {model.name}, seed {seed}, temperature {args.temperature}, "
              f"top-p {args.top_p}")
        for g in groups:
            p = pattern.group_params(g)
            if p.auto:
                print(f"# group {g}: density {p.level('density')}, "
                      f"intensity {p.level('intensity')}")
            print(encode_text(pattern, g))
        if args.grid:
            from autobeat_tui.widgets.layout import grid_lines

            print("\n".join(grid_lines(pattern, shutil.get_terminal_size().columns)))
        if args.out:
            try:
                write_midi(args.out, [pattern], force=args.force)
            except CodecError as exc:
                raise UserError(str(exc)) from None
            print(f"# wrote {args.out}")
        return 0
    finally:
        model.close()
