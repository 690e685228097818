"""`autobeat bench generate`: llama.cpp and PyTorch timed on the same work, in turns."""

from __future__ import annotations

import json

import pytest

from autobeat_tui.cli import main
from patterns.pattern import Pattern


def test_bench_generate_reports_both_runtimes_and_their_ratio(tiny_model, capsys):
    pytest.importorskip("torch")
    assert main(["bench", "generate", "--model", str(tiny_model), "--runs", "20",
                 "--threads", "1", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("group_ms_p50", "beat_ms_p50", "beat_ms_p90", "tokens_per_s",
                "torch_beat_ms_p50", "speedup_vs_torch", "rss_mb"):
        assert r[key] > 0, key
    assert r["beat_ms_p50"] <= r["beat_ms_p90"]
    assert r["speedup_vs_torch"] == round(r["torch_beat_ms_p50"] / r["beat_ms_p50"], 2)
    assert r["runs"] == 20 and r["model"] == str(tiny_model)
    # where the time goes, and on what CPU
    split = r["split"]
    assert split["decode_ms"] > 0 and split["decode_calls"] >= 4  # a call a token at least
    shares = [split[f"{k}_share"] for k in ("decode", "sampling", "grammar", "other")]
    assert abs(sum(shares) - 1.0) < 0.01 and split["decode_share"] > 0.2
    assert r["cpu"] and "= 1" not in r["cpu"]  # feature names, e.g. "SSE3 AVX2 FMA"


def test_the_pytorch_backend_runs_the_same_decode_loop(model):
    pytest.importorskip("torch")
    from models.torch_runner import TorchSession, torch_beat_model

    tm = torch_beat_model(model, n_threads=1)
    assert isinstance(tm._session, TorchSession)
    same = sum(tm.generate_all(Pattern(), Pattern().params, seed=s)
               == model.generate_all(Pattern(), Pattern().params, seed=s) for s in range(6))
    assert same >= 5  # the same logits within 1e-3: the same draws, bar a rare near-tie
    tm.close()


def test_bench_generate_refuses_too_few_runs(tiny_model, capsys):
    assert main(["bench", "generate", "--model", str(tiny_model), "--runs", "5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "autobeat bench: --runs must be at least 20, got 5")


def test_time_models_gives_each_model_the_same_runs(model):
    from autobeat_tui.bench.generate import time_models

    calls = []

    class Counting:
        def __init__(self, inner, name):
            self.inner, self.name = inner, name

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

        def generate_all(self, *a, **k):
            calls.append((self.name, "beat", k.get("seed", a[2] if len(a) > 2 else None)))
            return self.inner.generate_all(*a, **k)

    a, b = Counting(model, "a"), Counting(model, "b")
    out = time_models([a, b], 4, "rock", warmup=0)
    assert len(out) == 2 and all(o["beat_ms_p50"] > 0 for o in out)
    timed = [c for c in calls if c[2] != 12345]  # not the context beat made first
    # run by run in turn, the order alternating: a b, b a, a b, b a
    assert [c[0] for c in timed] == ["a", "b", "b", "a", "a", "b", "b", "a"]
