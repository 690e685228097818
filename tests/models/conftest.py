"""A tiny model trained inside the test session on a handful of Groove files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

GROOVE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "groove"
FILES = {
    "train": [
        "drummer1/session3/8_rock_135_beat_4-4.mid",
        "drummer3/session1/12_rock_120_beat_4-4.mid",
        "drummer3/session1/16_jazz_120_beat_4-4.mid",
        "drummer10/session1/6_jazz-swing_215_beat_4-4.mid",
        "drummer3/session1/3_rock_105_beat_4-4.mid",
    ],
    "validation": [
        "drummer3/session1/15_jazz_120_beat_4-4.mid",
        "drummer3/session1/7_rock_105_beat_4-4.mid",
    ],
}


@pytest.fixture(scope="session")
def groove_subset(tmp_path_factory) -> Path:
    """A Groove-layout folder (info.csv + files) with 5 train and 2 validation files."""
    if not (GROOVE / "info.csv").exists():
        pytest.skip(f"{GROOVE} is missing")
    root = tmp_path_factory.mktemp("groove")
    with (GROOVE / "info.csv").open(newline="") as f:
        rows = {r["midi_filename"]: r for r in csv.DictReader(f)}
    out = []
    for split, names in FILES.items():
        for name in names:
            row = dict(rows[name])
            row["split"] = split
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(GROOVE / name, root / name)
            out.append(row)
    with (root / "info.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    return root


@pytest.fixture(scope="session")
def tiny_model(groove_subset, tmp_path_factory) -> Path:
    """A 2-layer, width-48 model trained 60 steps on the subset, exported as F32 GGUF."""
    pytest.importorskip("torch")
    from models.train import TrainOptions, train

    out = tmp_path_factory.mktemp("model") / "tiny.gguf"
    train(TrainOptions(
        data=str(groove_subset), out=str(out), steps=60, n_embd=48, n_layer=2, n_head=2,
        tokens_per_batch=2048, lr=3e-3, warmup=10, eval_every=30, eval_sequences=64,
        checkpoint=str(out.with_suffix(".pt")), f16=False, fresh=True, progress=False, threads=1,
    ), log=lambda _m: None)
    return out


@pytest.fixture()
def model(tiny_model):
    from models.runner import BeatModel

    m = BeatModel.load(tiny_model, n_threads=1)
    yield m
    m.close()
