"""`autobeat dataset DATA_DIR --out DIR`: build the training corpus."""

from __future__ import annotations

import argparse
import json
import sys
import time

NAME = "dataset"
HELP = (
    "build the token corpus from MIDI files: one SPLIT.txt per split and stats.json "
    "(Groove layout: train.txt, validation.txt, test.txt; a plain folder: all.txt)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", metavar="DATA_DIR",
                        help="a Groove-layout folder (info.csv: its split column names the "
                        "files) or a folder of .mid files (all in all.txt, genre from each "
                        "file's folder; `autobeat train` holds a tenth of the files out "
                        "for validation)")
    parser.add_argument("--out", required=True, metavar="DIR", help="where to write the corpus")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from codec.dataset import build_corpus
    from codec.errors import CodecError

    started = time.monotonic()
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    try:
        stats = build_corpus(args.data_dir, args.out, log=log)
    except CodecError as exc:
        raise UserError(str(exc)) from None
    summary = {k: stats[k] for k in ("windows", "sequences", "tokens", "skipped", "roundtrip")}
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary, indent=2))
    return 0
