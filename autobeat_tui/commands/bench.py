"""`autobeat bench (timing|generate|bank|app) ...`: the benchmarks named in the issues.

Each benchmark is a module of autobeat_tui/bench/ (timing.py, generate.py, bank.py,
app.py), on the top floor so it may import every package it measures, and provides
``add_arguments(parser)`` and ``run(args) -> int``; this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib

NAME = "bench"
HELP = (
    "run a benchmark: timing (engine), generate (model), bank (files), app (screen), "
    "audio (kit), fills"
)

BENCHMARKS = {
    "timing": ("autobeat_tui.bench.timing", "player lateness, drift, clock master and follower"),
    "generate": ("autobeat_tui.bench.generate", "model latency: a group, a full beat; vs PyTorch"),
    "bank": ("autobeat_tui.bench.bank", "saving and loading a full bank of 128 slots"),
    "app": ("autobeat_tui.bench.app", "first frame and key-to-screen latency of the app"),
    "audio": ("autobeat_tui.bench.audio", "the built-in kit: render onsets, velocity, speed"),
    "fills": ("autobeat_tui.bench.fills", "fills: their shape, and ready before their bar"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, (module_name, help_text) in BENCHMARKS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            p.set_defaults(_bench=None, _missing=module_name)
            continue
        if hasattr(module, "add_arguments"):
            module.add_arguments(p)
        p.set_defaults(_bench=module.run)


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError

    if args._bench is None:
        raise UserError(f"benchmark {args.benchmark!r} is not available ({args._missing})")
    return int(args._bench(args) or 0)
