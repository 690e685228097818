"""`autobeat bench bank`: saving and loading a full bank of 128 slots (target: 50 ms each).

Two banks are measured: "busy", 64 events a slot (more than a 2-bar beat of the
Groove data with every group at its high density: about 20 drums, 15 hats, 6 toms,
14 cymbals), and "dense", 192 events a slot (half of all cells, a worst case).
Saving is the whole save_bank (encode, temp file, fsync, .bak, rename, folder
fsync); loading is the whole load_bank (read, parse, decode, validate).
The files go to a temp folder beside the default bank (the disk banks live on),
or --dir, and are removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from patterns.bank import SLOT_NAMES, Bank, Chain, default_bank_path, load_bank, save_bank
from patterns.grid import GROUPS, STEPS, TRACKS
from patterns.pattern import LEVELS, Event, GroupParams, Pattern

TARGET_MS = 50.0
SIZES = {"busy": 64, "dense": 192}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repeat",
        type=int,
        default=20,
        metavar="N",
        help="saves and loads to time per bank (default 20)",
    )
    parser.add_argument(
        "--dir", metavar="DIR", help="where to write the files (default: beside the default bank)"
    )


def full_bank(events_per_slot: int, seed: int = 1) -> Bank:
    """128 filled slots with generation facts, names, tempi, swing, and two chains."""
    rng = random.Random(seed)
    cells = [(s, t.number) for s in range(STEPS) for t in TRACKS]
    slots = {}
    for i, slot in enumerate(SLOT_NAMES):
        chosen = rng.sample(cells, events_per_slot)
        events = tuple(Event(s, t, rng.randint(-48, 47), rng.randint(1, 127)) for s, t in chosen)
        params = tuple(
            GroupParams(
                genre=rng.choice(("rock", "funk", "jazz", "hiphop", "latin")),
                type=rng.choice(("beat", "fill")),
                density=rng.choice(LEVELS),
                intensity=rng.choice(LEVELS),
                seed=rng.randrange(2**32),
                model="autobeat-small-q8.gguf",
            )
            for _ in GROUPS
        )
        slots[slot] = Pattern(
            events,
            params,
            tempo=float(rng.randint(70, 180)),
            swing=float(rng.choice((50, 54, 58, 62))),
            name=f"Beat {i + 1}",
        )
    chains = {
        "song": Chain("song", tuple((s, 1 + i % 4) for i, s in enumerate(SLOT_NAMES[:32]))),
        "live": Chain("live", tuple((s, 2) for s in SLOT_NAMES[::8])),
    }
    return Bank(slots, chains, "bench")


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 2),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
    }


def measure(bank: Bank, folder: Path, repeat: int) -> dict:
    path = folder / "bench.json"
    save_bank(bank, path)  # warm-up; also makes the .bak path exercised from now on
    saves, loads = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        save_bank(bank, path)
        t1 = time.perf_counter()
        result = load_bank(path)
        t2 = time.perf_counter()
        saves.append((t1 - t0) * 1000)
        loads.append((t2 - t1) * 1000)
        if result.bank != bank or result.warnings:
            raise RuntimeError("bench: the bank did not load back identical")
    events = sum(len(p.events) for p in bank.slots.values())
    save, load = _stats(saves), _stats(loads)
    return {
        "slots": len(bank.slots),
        "events": events,
        "file_bytes": path.stat().st_size,
        "save_ms": save,
        "load_ms": load,
        "within_target": save["median"] <= TARGET_MS and load["median"] <= TARGET_MS,
    }


def run(args: argparse.Namespace) -> int:
    repeat = max(1, args.repeat)
    if args.dir:
        base = Path(args.dir)
    else:
        base = default_bank_path().parent
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    try:
        results = {name: measure(full_bank(n), folder, repeat) for name, n in SIZES.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "benchmark": "bank",
        "target_ms": TARGET_MS,
        "repeat": repeat,
        "folder": str(base),
        **results,
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"bank benchmark: {repeat} saves and loads of a full bank (target {TARGET_MS:g} ms)")
    for name, r in results.items():
        print(
            f"  {name:8} {r['slots']} slots, {r['events']} events, {r['file_bytes']} bytes: "
            f"save median {r['save_ms']['median']} ms (max {r['save_ms']['max']}), "
            f"load median {r['load_ms']['median']} ms (max {r['load_ms']['max']})"
            + ("" if r["within_target"] else "  OVER TARGET")
        )
    return 0
