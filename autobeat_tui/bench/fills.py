"""`autobeat bench fills`: how fills sound, and whether they are ready in time (issue 13).

1. Shape (``--part shape``): the model writes a fill (``BeatModel.fill``, bar 2) for
   --grooves real grooves of the split (4/4 beat windows, drawn with --seed). Target:
   the busiest snare-or-tom beat of the fill bar is one of its last two beats in at
   least 60 % of fills. Hats: the share of fills whose hats play through their
   busiest beat, at most 1.5 x the share in the split's real fill windows (their
   busiest bar, measured the same way; models/groove.py).
2. Ready (``--part ready``): the engine plays a groove at --bpm (174) with a phrase
   of 4 bars for --phrases phrases (50); the model writes each phrase's fill as the
   phrase begins (autobeat_tui/live/phrase_loop.py, as ``autobeat play --phrase``).
   Target: every fill reaches the engine before its bar begins (the engine counts the
   late ones). Also: the model's time per fill and the least time left before a bar.
3. App (``--part app``): the same with the real app drawing (Textual's headless
   driver, the real engine process and model): ``:phrase 4`` typed, space to play;
   the app writes the fills in its model worker while the playhead redraws the grid.
Timing on a busy, shared machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

SHAPE_TARGET = 0.60
HATS_RATIO_TARGET = 1.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", choices=("shape", "ready", "app", "all"), default="all")
    parser.add_argument("--grooves", type=int, default=200, help="fills to write (default 200)")
    parser.add_argument("--split", default="validation", help="the data split (default validation)")
    parser.add_argument("--data", default="../shared/data/groove", metavar="DIR",
                        help="the Groove data (default ../shared/data/groove)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phrases", type=int, default=50, help="phrases to play (default 50)")
    parser.add_argument("--bpm", type=float, default=174.0, help="tempo (default 174)")
    parser.add_argument("--phrase", type=int, choices=(4, 8, 16), default=4,
                        help="bars a phrase (default 4)")
    parser.add_argument("--model", metavar="FILE.gguf", help="default: the shipped model")


def _fill_bar(p) -> int:
    from models.groove import fill_hits

    return max((0, 1), key=lambda b: (sum(fill_hits(p, b)), -b))


def shape(model, args, say) -> dict:
    import numpy as np

    from autobeat_tui.errors import UserError
    from codec.dataset import collect
    from models.groove import busiest_beat, hats_on_beat

    say(f"reading {args.data}")
    corpus = collect(args.data, bins=model.bins)
    windows = corpus.windows.get(args.split, [])
    if not windows:
        known = ", ".join(sorted(corpus.windows)) or "none"
        raise UserError(f"split {args.split!r} not in {args.data} (splits: {known})")
    grooves = [corpus.labelled(cw) for cw in windows if cw.source.type == "beat"]
    real_fills = [cw.window.pattern for cw in windows if cw.source.type == "fill"]
    rng = np.random.default_rng(args.seed)
    picks = [grooves[int(i)] for i in rng.choice(len(grooves), size=min(args.grooves,
                                                                        len(grooves)),
                                                 replace=False)]
    late = hats = 0
    written = 0
    started = time.monotonic()
    for n, groove in enumerate(picks):
        fill = model.fill(groove, 1, (args.seed * 1_000_003 + n) % 2**32)
        beat = busiest_beat(fill, 1)
        written += 1
        if beat is not None:
            late += beat >= 2
            hats += hats_on_beat(fill, 1, beat)
        if (n + 1) % 50 == 0:
            say(f"shape: {n + 1}/{len(picks)} fills ({time.monotonic() - started:.0f} s)")
    real_hats = []
    real_late = []
    for p in real_fills:
        bar = _fill_bar(p)
        beat = busiest_beat(p, bar)
        if beat is not None:
            real_hats.append(hats_on_beat(p, bar, beat))
            real_late.append(beat >= 2)
    late_share = late / written if written else 0.0
    hats_share = hats / written if written else 0.0
    real_hats_share = float(np.mean(real_hats)) if real_hats else None
    ratio = (hats_share / real_hats_share) if real_hats_share else None
    return {
        "fills": written,
        "split": args.split,
        "busiest_in_last_two_beats": round(late_share, 4),
        "busiest_target": SHAPE_TARGET,
        "hats_through_busiest": round(hats_share, 4),
        "real_fill_windows": len(real_hats),
        "real_hats_through_busiest": None if real_hats_share is None else round(real_hats_share,
                                                                                 4),
        "real_busiest_in_last_two_beats": round(float(np.mean(real_late)), 4) if real_late
        else None,
        "hats_ratio": None if ratio is None else round(ratio, 3),
        "hats_ratio_target": HATS_RATIO_TARGET,
        "seconds": round(time.monotonic() - started, 1),
        "passed": late_share >= SHAPE_TARGET and (ratio is None or ratio <= HATS_RATIO_TARGET),
    }


def ready(model, args, say) -> dict:
    from autobeat_tui.live.drummer import Drummer
    from autobeat_tui.live.phrase_loop import play_phrases
    from engine import messages as m
    from engine.client import Engine
    from patterns.bank import starter_bank

    groove = replace(starter_bank().slots["A01"], phrase=args.phrase, tempo=args.bpm)
    bars = args.phrases * args.phrase
    engine = Engine(out="none", realtime=True)
    engine.start()
    try:
        engine.send(m.SetPattern(groove, at="now"))
        engine.send(m.SetTempo(args.bpm))
        engine.send(m.Transport("start"))

        def done(state, seconds) -> bool:
            return state is not None and state.bar >= bars

        say(f"ready: {args.phrases} phrases of {args.phrase} bars at {args.bpm:g} BPM "
            f"({bars * 240 / args.bpm:.0f} s)")
        stats = play_phrases(engine, model, groove, Drummer(), done)
    finally:
        engine.stop()
    out = stats.summary()
    out.update({
        "phrases": args.phrases,
        "bpm": args.bpm,
        "phrase": args.phrase,
        "late_events": stats.state.late_events if stats.state else None,
        # a phrase ahead: the fill of the phrase after the last is written too
        "passed": out["fills"] >= args.phrases and out["fills_late"] == 0,
    })
    return out


def app_ready(args, say) -> dict:
    import asyncio

    return asyncio.run(_app_ready(args, say))


async def _app_ready(args, say) -> dict:
    from autobeat_tui.app import AutoBeatApp
    from autobeat_tui.errors import UserError
    from autobeat_tui.live.session import Session
    from engine import messages as m
    from engine.client import Engine
    from models.runner import BeatModel
    from patterns.bank import starter_bank

    groove = replace(starter_bank().slots["A01"], tempo=args.bpm)
    bars = args.phrases * args.phrase
    engine = Engine(out="none")
    sent: list = []
    send = engine.send

    def counting(command) -> None:
        if isinstance(command, m.PlayOnce):
            sent.append((time.monotonic(), command))
        send(command)

    engine.send = counting  # type: ignore[method-assign]
    # started here, as `autobeat` does before its first frame (a process spawned from
    # under Textual's test driver cannot keep its standard streams)
    engine.start()
    app = AutoBeatApp(Session(groove), engine, lambda: BeatModel.load(args.model),
                      start_engine=False)
    say(f"app: {args.phrases} phrases of {args.phrase} bars at {args.bpm:g} BPM, the app drawing")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            while not (app.engine_ready and (app.model is not None or app.model_status.error)):
                await pilot.pause(0.05)
            if app.model is None or app.engine_error:
                raise UserError(f"bench fills: the app could not start: model "
                                f"{app.model_status.text}, engine {app.engine_error or 'ok'}")
            await pilot.press("colon", *f"phrase {args.phrase}", "enter", "space")
            state = app.session.engine
            while state.bar < bars or not state.playing:
                await pilot.pause(0.05)
                state = app.session.engine
                if app.engine_error:
                    raise UserError(f"bench fills: the engine stopped: {app.engine_error}")
            await pilot.press("space")
            await app.workers.wait_for_complete()
    finally:
        app.close_model()
        engine.stop()
    fills = sum(1 for _, c in sent if c.fill)
    return {
        "phrases": args.phrases,
        "bpm": args.bpm,
        "phrase": args.phrase,
        "fills": fills,
        "fills_late": state.once_late,
        "fills_ready_in_time": fills - min(fills, state.once_late),
        "late_events": state.late_events,
        "passed": fills >= args.phrases and state.once_late == 0,
    }


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.commands._options import load_model
    from autobeat_tui.errors import UserError

    if args.grooves < 1 or args.phrases < 1:
        raise UserError("--grooves and --phrases must be at least 1")

    def say(line: str) -> None:
        print(f"bench fills: {line}", file=sys.stderr)

    model = load_model(args.model)
    result: dict = {"model": model.name}
    try:
        if args.part in ("shape", "all"):
            result["shape"] = shape(model, args, say)
        if args.part in ("ready", "all"):
            result["ready"] = ready(model, args, say)
    finally:
        model.close()
    if args.part in ("app", "all"):
        result["app"] = app_ready(args, say)
    if args.json:
        print(json.dumps(result))
    else:
        for part in ("shape", "ready", "app"):
            if part in result:
                print(f"{part}: " + ", ".join(f"{k} {v}" for k, v in result[part].items()))
    return 0
