"""`autobeat bench generate`: how fast the model writes a group and a full beat.

- ``group_ms``: one group (hats) in the context of a full beat, through llama.cpp;
- ``beat_ms``: a new beat as `G` writes it (auto levels; drums, hats, toms,
  cymbals, each in the context of those before);
- median and 90th percentile over ``--runs`` runs (seeds 0..runs-1) after a warm-up;
  llama.cpp and PyTorch take turns run by run, so a noisy machine slows both alike;
- ``tokens_per_s``: tokens written per second of the beat runs;
- ``split``: where the beat runs' time went (``DecodeProfile``): in llama_decode,
  sampling, the grammar, and the rest (prompts, patterns), in ms a beat and as
  shares, with the number of decode calls a beat;
- ``cpu``: the llama.cpp build's CPU features (llama_print_system_info), so that
  figures from different machines can be compared;
- ``rss_mb``: peak resident memory of the process before torch is imported;
- the same weights, prompts, grammar, sampling and seeds with the forward passes
  in PyTorch eager mode with a KV cache (``models/torch_runner.py``), and the ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import replace

import numpy as np

from models.runner import BeatModel, DecodeProfile, ModelError
from patterns.pattern import Pattern


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="FILE.gguf", help="default: the shipped model")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each (at least 20)")
    parser.add_argument("--threads", type=int, default=2, help="threads (default 2)")
    parser.add_argument("--genre", default="rock")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch baseline")


def _ms(times: list[float]) -> tuple[float, float]:
    a = np.array(times) * 1000.0
    return round(float(np.percentile(a, 50)), 2), round(float(np.percentile(a, 90)), 2)


def time_models(models: list, runs: int, genre: str, warmup: int = 3) -> list[dict]:
    """Time each model on the same work, run by run in turn (the order alternating).

    Taking turns, every model sees the same machine: a shared, noisy machine slows
    them alike, and the ratio between them holds where one after the other would not.
    """
    params = [replace(p, genre=genre) for p in Pattern().params]  # what `G` asks: auto levels
    hats = replace(params[1], density="mid", intensity="mid", auto=frozenset())
    context = models[0].generate_all(Pattern(), params, seed=12345)
    for model in models:
        for i in range(warmup):
            model.generate_group(context, 2, hats, seed=i)
            model.generate_all(Pattern(), params, seed=i)
    group_t = [[] for _ in models]
    beat_t = [[] for _ in models]
    profiles = [DecodeProfile() for _ in models]
    for i in range(runs):
        order = list(range(len(models)))
        if i % 2:
            order.reverse()
        for k in order:
            t = time.perf_counter()
            models[k].generate_group(context, 2, hats, seed=i)
            group_t[k].append(time.perf_counter() - t)
        for k in order:
            models[k].profile = profiles[k]
            t = time.perf_counter()
            models[k].generate_all(Pattern(), params, seed=i)
            beat_t[k].append(time.perf_counter() - t)
            models[k].profile = None
    out = []
    for k in range(len(models)):
        g50, g90 = _ms(group_t[k])
        b50, b90 = _ms(beat_t[k])
        prof = profiles[k]
        split = prof.split()
        out.append({
            "group_ms_p50": g50, "group_ms_p90": g90, "beat_ms_p50": b50, "beat_ms_p90": b90,
            "tokens_per_s": round(prof.tokens / sum(beat_t[k]), 1),
            "split": {
                **{f"{name}_ms": round(1000 * v / runs, 2) for name, v in split.items()},
                **{f"{name}_share": round(v / max(prof.total_s, 1e-9), 3)
                   for name, v in split.items()},
                "decode_calls": round(prof.calls / runs, 1),
                "tokens": round(prof.tokens / runs, 1),
            },
        })
    return out


def cpu_features() -> str:
    """The llama.cpp build's CPU features, e.g. 'SSE3 AVX AVX2 F16C FMA ... OPENMP'."""
    import llama_cpp

    text = llama_cpp.llama_print_system_info().decode(errors="replace")
    return " ".join(part.split("=")[0].strip().removeprefix("CPU : ")
                    for part in text.split("|") if part.strip().endswith("= 1"))


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError

    if args.runs < 20:
        raise UserError(f"--runs must be at least 20, got {args.runs}")
    try:
        model = BeatModel.load(args.model, n_threads=args.threads)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    if args.genre not in model.genres:
        raise UserError(f"unknown genre {args.genre!r}; known: {', '.join(model.genres)}")
    for i in range(3):  # the peak memory of llama.cpp generating, before torch is imported
        model.generate_all(Pattern(), [replace(p, genre=args.genre) for p in Pattern().params],
                           seed=i)
    rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    tm = None
    if not args.no_torch:
        try:
            from models.torch_runner import torch_beat_model
        except ImportError as exc:  # torch is the train extra
            print(f"no PyTorch baseline: {exc}", file=sys.stderr)
        else:
            tm = torch_beat_model(model, n_threads=args.threads)
    timed = time_models([model] if tm is None else [model, tm], args.runs, args.genre)
    result = timed[0]
    result["rss_mb"] = rss_mb
    result["cpu"] = cpu_features()
    result.update({"runs": args.runs, "threads": args.threads, "model": str(model.path)})
    if tm is not None:
        t = timed[1]
        result["torch_group_ms_p50"] = t["group_ms_p50"]
        result["torch_beat_ms_p50"] = t["beat_ms_p50"]
        result["torch_beat_ms_p90"] = t["beat_ms_p90"]
        result["torch_split"] = t["split"]
        result["speedup_vs_torch"] = round(t["beat_ms_p50"] / result["beat_ms_p50"], 2)
        tm.close()
    model.close()
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0
