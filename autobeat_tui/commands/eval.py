"""`autobeat eval`: the model's likelihood vs an n-gram, and how its generations compare."""

from __future__ import annotations

import argparse
import json
import sys

from autobeat_tui.commands._numbers import SEED, THREADS, integer, number
from autobeat_tui.commands._options import load_model

NAME = "eval"
HELP = "evaluate the beat model on a Groove-layout folder (or a folder of .mid files)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="a Groove-layout folder (info.csv) or a folder of .mid files")
    parser.add_argument("--split", default="validation", help="split or all")
    parser.add_argument("--samples", type=integer(1, 1_000_000),
                        default=600, help="groups to generate (default 600)")
    parser.add_argument("--model", metavar="FILE.gguf", help="default: the shipped model")
    parser.add_argument("--ngram-data", metavar="DIR",
                        help="the n-gram baseline's training data (default ../shared/data/groove)")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--temperature", type=number(0.05, 3), default=1.0)
    parser.add_argument("--top-p", type=number(0, 1, above=True), default=0.95)
    parser.add_argument("--free-density", action="store_true",
                        help="let the model alone choose the event count (no density range)")
    parser.add_argument("--genre-check", type=integer(0, 100_000), default=0, metavar="N",
                        help="also write N new beats a genre and measure how often a listener "
                             "fitted on real beats names their genre (0: skip)")
    parser.add_argument("--threads", type=THREADS, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from codec.errors import CodecError
    from models.evaluate import EvalOptions, evaluate
    from models.runner import ModelError

    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    if args.genre_check < 0:
        raise UserError(f"--genre-check must be 0 or more, got {args.genre_check}")
    model = load_model(args.model, args.threads)
    model.enforce_density = not args.free_density
    log = None if args.json else (lambda m: print(m, file=sys.stderr))
    try:
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
    else:
        print(json.dumps(result, indent=2))
    return 0
