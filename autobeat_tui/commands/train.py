"""`autobeat train`: train (or fine-tune) the beat model and export it to GGUF."""

from __future__ import annotations

import argparse
import sys

from autobeat_tui.commands._numbers import SEED, THREADS, integer, number

NAME = "train"
HELP = "train the beat model on MIDI files (Groove layout or a folder of .mid) and export GGUF"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="a Groove-layout folder (info.csv) or a folder of .mid files "
                        "(genre: the folder's name)")
    parser.add_argument("--out", required=True, metavar="FILE.gguf", help="the model to write")
    parser.add_argument("--init", metavar="BASE.gguf",
                        help="fine-tune this model (new genres take its spare genre slots)")
    parser.add_argument("--steps", type=integer(0, 10_000_000),
                        default=3600, help="optimizer steps (default 3600)")
    parser.add_argument("--width", type=integer(8, 8192), default=192, help="n_embd (default 192)")
    parser.add_argument("--layers", type=integer(1, 128), default=4, help="blocks (default 4)")
    parser.add_argument("--heads", type=integer(1, 128),
                        default=4, help="attention heads (default 4)")
    parser.add_argument("--batch-tokens", type=integer(16, 10_000_000),
                        default=8192, help="tokens a batch")
    parser.add_argument("--lr", type=number(0, 1, above=True),
                        default=None, help="peak learning rate")
    parser.add_argument("--eval-every", type=integer(1, 10_000_000),
                        default=250, help="steps between validations")
    parser.add_argument("--checkpoint", metavar="FILE.pt",
                        help="checkpoint to write and resume from (default build/train/NAME.pt)")
    parser.add_argument("--threads", type=THREADS, default=2, help="torch threads (default 2)")
    parser.add_argument("--f32", action="store_true", help="export F32 weights (default F16)")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--seed", type=SEED, default=1337)
    parser.add_argument("--levels-only", action="store_true",
                        help="no training: write --init's weights to --out with the auto level "
                             "table of --data's train split (how real drummers play each genre)")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError

    if args.levels_only:
        return levels_only(args)

    try:
        import torch  # noqa: F401

        from models.train import TrainOptions, train
    except ImportError as exc:
        raise UserError(f"training needs the train extra (torch, gguf): {exc}") from None
    from codec.errors import CodecError
    from models.runner import ModelError

    if args.steps < 0:
        raise UserError(f"--steps must be at least 0, got {args.steps}")
    opts = TrainOptions(
        data=args.data, out=args.out, init=args.init, steps=args.steps, n_embd=args.width,
        n_layer=args.layers, n_head=args.heads, tokens_per_batch=args.batch_tokens,
        eval_every=args.eval_every, checkpoint=args.checkpoint, threads=args.threads,
        seed=args.seed, f16=not args.f32, fresh=args.fresh, progress=sys.stderr.isatty(),
    )
    if args.lr is not None:
        opts.lr = args.lr
    elif args.init:
        opts.lr, opts.warmup = 3e-4, 20  # fine-tuning: gentler
    try:
        train(opts)
    except (ValueError, CodecError, ModelError) as exc:
        raise UserError(str(exc)) from None
    return 0


def levels_only(args: argparse.Namespace) -> int:
    """Give a model (``--init``) the level table of ``--data``: the weights stay bit for bit."""
    from autobeat_tui.errors import UserError
    from codec.dataset import collect
    from codec.errors import CodecError
    from models.runner import BeatModel, ModelError

    if not args.init:
        raise UserError("--levels-only needs --init MODEL.gguf (the weights to keep)")
    try:
        import gguf  # noqa: F401

        from models.export import rewrite_gguf
        from models.train import level_table
    except ImportError as exc:
        raise UserError(f"--levels-only needs the train extra (gguf): {exc}") from None
    try:
        base = BeatModel.load(args.init, n_threads=1)
        bins = base.bins
        base.close()
        corpus = collect(args.data, bins=bins)
        split = "train" if "train" in corpus.windows else next(iter(sorted(corpus.windows)), None)
        if split is None:
            raise UserError(f"{args.data}: no usable 2-bar windows of drums")
        table = level_table(corpus, split, bins)
        rewrite_gguf(args.init, args.out, levels=table)
    except (ValueError, CodecError, ModelError, OSError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {args.out}: {args.init}'s weights, levels of {len(table.keys())} genre/type "
          f"pairs from split {split!r}")
    return 0
