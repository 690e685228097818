"""`autobeat eval`: the model's likelihood vs an n-gram, and how its generations compare."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autobeat_tui.commands._numbers import SEED, THREADS, integer, number
from autobeat_tui.commands._options import THREADS_HELP, load_model

NAME = "eval"
HELP = "evaluate the beat model on a Groove-layout folder (or a folder of .mid files)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="../shared/data/groove", metavar="DIR",
                        help="a Groove-layout folder (info.csv) or a folder of .mid files "
                             "(default ../shared/data/groove)")
    parser.add_argument("--split", default="validation", help="split or all")
    parser.add_argument("--samples", type=integer(1, 1_000_000),
                        default=600, help="groups to generate (default 600)")
    parser.add_argument("--model", metavar="FILE.gguf", help="default: the shipped model")
    parser.add_argument("--ngram-data", metavar="DIR",
                        help="the n-gram baseline's training data (default ../shared/data/groove)")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--groove", action="store_true",
                        help="only the beats a user gets: --beats new beats with no options "
                             "against the split's real 4/4 beats (see models/groove.py)")
    parser.add_argument("--beats", type=integer(1, 100_000), default=200,
                        help="new beats for --groove (default 200)")
    parser.add_argument("--temperature", type=number(0.05, 3), default=1.0)
    parser.add_argument("--top-p", type=number(0, 1, above=True), default=0.95)
    parser.add_argument("--free-density", action="store_true",
                        help="let the model alone choose the event count (no density range)")
    parser.add_argument("--genre-check", type=integer(0, 100_000), default=0, metavar="N",
                        help="also write N new beats a genre and measure how often a listener "
                             "fitted on real beats names their genre (0: skip)")
    parser.add_argument("--threads", type=THREADS, default=None, help=THREADS_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from codec.errors import CodecError
    from models.evaluate import GROOVE_DATA, EvalOptions, evaluate
    from models.runner import ModelError

    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    if args.beats < 1:
        raise UserError(f"--beats must be at least 1, got {args.beats}")
    if args.genre_check < 0:
        raise UserError(f"--genre-check must be 0 or more, got {args.genre_check}")
    for option, folder in (("--data", args.data), ("--ngram-data", args.ngram_data)):
        # checked before the minute of work that would end on it
        if folder is not None and not Path(folder).is_dir():
            raise UserError(f"{option}: {folder} is not a folder")
    if args.ngram_data is None and not GROOVE_DATA.is_dir():
        raise UserError(f"--ngram-data: the default {GROOVE_DATA} is not a folder from "
                        f"{Path.cwd()}; give the n-gram baseline's data with --ngram-data DIR")
    model = load_model(args.model, args.threads)
    model.enforce_density = not args.free_density
    def log(message: str) -> None:  # progress on stderr; the result alone on stdout
        print(message, file=sys.stderr, flush=True)

    try:
        if args.groove:
            result = groove(model, args, log)
        else:
                result = evaluate(model, EvalOptions(args.data, args.split, args.samples, args.seed,
                                                 args.ngram_data, args.temperature, args.top_p,
                                                 genre_check=args.genre_check),
                              log=log)
    except (ValueError, CodecError, ModelError) as exc:
        raise UserError(str(exc)) from None
    finally:
        model.close()
    if args.json:
        print(json.dumps(result))
    elif args.groove:
        print(groove_table(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


def groove(model, args: argparse.Namespace, log) -> dict:
    from codec.dataset import collect
    from models.groove import groove_report

    log(f"reading {args.data}")
    corpus = collect(args.data, bins=model.bins)
    split = [cw for name, ws in corpus.windows.items() if args.split in (name, "all")
             for cw in ws]
    if not split:
        known = ", ".join(sorted(corpus.windows)) or "none"
        raise ValueError(f"split {args.split!r} not in {args.data} (splits: {known}, or all)")
    real = [(cw.source.genre, cw.window.pattern) for cw in split if cw.source.type == "beat"]
    unknown = sorted({g for g, _p in real} - set(model.genres))
    if unknown:
        raise ValueError(f"genres not known to {model.name}: {', '.join(unknown)}")
    result = groove_report(model, real, args.beats, args.seed, log)
    result["split"] = args.split
    result["model"] = str(model.path)
    return result


def groove_table(result: dict) -> str:
    """The report as a table: one measure a row, real and generated side by side."""
    rows = [f"{'measure':<26} {'real':>10} {'generated':>10}"]
    for key, real in result["real"].items():
        made = result["generated"][key]
        if isinstance(made, dict):
            made = made.get("mean")
            key = f"{key}.mean"
        rows.append(f"{key:<26} {_cell(real):>10} {_cell(made):>10}")
    overlap = result["generated"]["feature_overlap"]
    groups = ", ".join(f"{k} {v}" for k, v in overlap["by_group"].items())
    rows.append(f"feature_overlap by group: {groups}")
    rows.append(f"{result['beats']} new beats against {result['real_beats']} real ones "
                f"of split {result['split']}, {result['seconds']} s")
    return "\n".join(rows)


def _cell(value) -> str:
    return "-" if value is None else f"{value:g}"
