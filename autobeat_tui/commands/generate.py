"""`autobeat generate`: write a group or a whole beat with the model, print its tokens."""

from __future__ import annotations

import argparse
import secrets

from autobeat_tui.commands._numbers import BPM, SEED, THREADS, number
from autobeat_tui.commands._options import load_model

NAME = "generate"
HELP = "generate a group (or a full beat) with the beat model; print its tokens, write MIDI"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from models.runner import DEFAULT_TEMPERATURE

    parser.add_argument("--model", metavar="FILE.gguf", help="default: the shipped model")
    parser.add_argument("--genre", default="rock", help="genre (see --list-genres); default rock")
    parser.add_argument("--type", default="beat", choices=("beat", "fill"))
    parser.add_argument("--density", choices=("low", "mid", "high"),
                        help="events in the group (default mid; toms and cymbals low)")
    parser.add_argument("--intensity", default="mid", choices=("low", "mid", "high"))
    parser.add_argument("--group", default="all", metavar="1..4|all",
                        help="the group to generate, or all four (default)")
    parser.add_argument("--seed", type=SEED, help="random seed 0..4294967295 (default: drawn)")
    parser.add_argument("--temperature", type=number(0.05, 3), default=DEFAULT_TEMPERATURE,
                        help=f"0.05..3 (default {DEFAULT_TEMPERATURE}; higher: wilder)")
    parser.add_argument("--top-p", type=number(0, 1, above=True),
                        default=0.95, help="nucleus sampling 0..1")
    parser.add_argument("--context", metavar="FILE.mid",
                        help="a MIDI file whose first 2 bars are the other groups' context")
    parser.add_argument("--tempo", type=BPM, default=None, help="tempo of the MIDI file, BPM")
    parser.add_argument("--out", metavar="FILE.mid", help="write the pattern as a MIDI file")
    parser.add_argument("--force", action="store_true",
                        help="let --out replace an existing file that is not a MIDI file")
    parser.add_argument("--threads", type=THREADS, default=None, help="llama.cpp threads")
    parser.add_argument("--grid", action="store_true", help="also print the pattern as a grid")
    parser.add_argument("--list-genres", action="store_true", help="list the model's genres")


def grid_text(pattern) -> str:
    """The pattern as 12 rows of 32 steps: '.' rest, 'o' soft, 'x' mid, 'X' loud."""
    from patterns.grid import TRACKS

    lines = []
    for track in TRACKS:
        cells = ["."] * 32
        for e in pattern.track_events(track.number):
            cells[e.step] = "o" if e.velocity < 50 else ("x" if e.velocity < 100 else "X")
        bars = "".join(cells[:16]) + " " + "".join(cells[16:])
        lines.append(f"{track.label:>10} |{bars}|")
    return "\n".join(lines)


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
    from codec.midi import midi_to_pattern, write_midi
    from codec.tokens import encode_text
    from models.runner import ModelError
    from patterns.grid import GROUPS
    from patterns.pattern import DEFAULT_DENSITY, GroupParams, Pattern, PatternError

    group = _group(args.group)
    if args.out:  # refused before the model runs, not after
        from patterns.files import FileError, check_overwrite

        try:
            check_overwrite(args.out, magic=b"MThd", force=args.force, what="MIDI file")
        except FileError as exc:
            raise UserError(str(exc)) from None
    model = load_model(args.model, args.threads)
    try:
        if args.list_genres:
            print("\n".join(model.genres))
            return 0
        seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
        try:
            # unless asked, each group's density is a new pattern's (toms, cymbals: low)
            asked = [GroupParams(genre=args.genre, type=args.type,
                                 density=args.density or DEFAULT_DENSITY[g.number],
                                 intensity=args.intensity) for g in GROUPS]
            pattern = midi_to_pattern(args.context) if args.context else Pattern()
            if args.tempo is not None:
                pattern = pattern.with_tempo(args.tempo)
        except (PatternError, CodecError) as exc:
            raise UserError(str(exc)) from None
        try:
            if group is None:
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
            print(encode_text(pattern, g))
        if args.grid:
            print(grid_text(pattern))
        if args.out:
            try:
                write_midi(args.out, [pattern], force=args.force)
            except CodecError as exc:
                raise UserError(str(exc)) from None
            print(f"# wrote {args.out}")
        return 0
    finally:
        model.close()
