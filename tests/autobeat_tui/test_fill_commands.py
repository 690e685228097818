"""Issue 13 headless: `autobeat play --phrase`, `autobeat generate --type fill --context`,
`autobeat bench fills` (short runs; the real model, no MIDI system)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codec.tokens import decode
from patterns.bank import save_bank, starter_bank
from patterns.pattern import Event, Pattern

DATA = Path("../shared/data/groove")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["JACK_DEFAULT_SERVER"] = "autobeat-no-such-server"
    env["JACK_NO_START_SERVER"] = "1"
    return env


def autobeat(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autobeat_tui.cli", *args],
                          capture_output=True, text=True, timeout=timeout, env=_env())


@pytest.fixture
def bank(tmp_path) -> Path:
    path = tmp_path / "bank.json"
    save_bank(starter_bank().with_slot("A02", Pattern((Event(0, 1),), phrase=8)), path)
    return path


def test_play_a_slot_in_phrases_with_fills(bank):
    out = autobeat("play", str(bank), "--slot", "A01", "--phrase", "4", "--bpm", "300",
                   "--seconds", "4", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["phrase"] == 4 and summary["errors"] == []
    assert summary["fills"] >= 1  # asked for bar 4 as bar 1 began, whatever the machine
    assert summary["fills_ready_in_time"] + summary["fills_late"] == summary["fills"]
    assert "fill for bar 4 written" in out.stderr


def test_play_rejects_a_bad_vary(bank):
    out = autobeat("play", str(bank), "--slot", "A01", "--vary", "3")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        "autobeat play: --vary must be 0 (off) or in 0.05..1, got 3")


def test_generate_a_fill_for_a_slot(bank):
    out = autobeat("generate", "--type", "fill", "--context", "A01", "--bank", str(bank),
                   "--seed", "7")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if not line.startswith("#")]
    assert len(lines) == 4
    events = [e for line in lines for e in decode(line).events]
    groove = starter_bank().slots["A01"]
    cells = sorted((e.step, e.track) for e in events if e.step < 16)
    assert cells == sorted((e.step, e.track) for e in groove.events if e.step < 16)  # bar 1
    bar2 = [e for e in events if e.step >= 16]
    assert {(e.step, e.track) for e in bar2} != {(e.step, e.track) for e in groove.events
                                                 if e.step >= 16}
    assert sum(1 for e in bar2 if e.track in (3, 8, 9, 10)) >= 3  # a fill of drums and toms
    again = autobeat("generate", "--type", "fill", "--context", "A01", "--bank", str(bank),
                     "--seed", "7")
    assert again.stdout == out.stdout


def test_generate_a_fill_for_an_empty_slot_is_one_line(bank):
    out = autobeat("generate", "--type", "fill", "--context", "C05", "--bank", str(bank))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        f"autobeat generate: {bank}: slot C05 is empty: nothing to write a fill for")


def test_bench_fills_ready_counts_every_phrase():
    out = autobeat("bench", "fills", "--part", "ready", "--phrases", "2", "--bpm", "300",
                   "--json")
    assert out.returncode == 0, out.stderr
    ready = json.loads(out.stdout.strip().splitlines()[-1])["ready"]
    # one fill a phrase, written a phrase ahead: as bar 5 begins, the one after the last
    # is written too (unless the machine held the loop up for that whole phrase)
    assert ready["phrases"] == 2 and ready["fills"] in (2, 3)
    assert ready["fills_ready_in_time"] + ready["fills_late"] == ready["fills"]
    assert ready["passed"] == (ready["fills_late"] == 0)


def test_bench_fills_with_the_app_drawing():
    out = autobeat("bench", "fills", "--part", "app", "--phrases", "1", "--bpm", "300",
                   "--json")
    assert out.returncode == 0, out.stderr
    app = json.loads(out.stdout.strip().splitlines()[-1])["app"]
    assert app["phrases"] == 1 and app["fills"] >= 1  # bar 4's fill is asked as play starts
    assert app["fills_ready_in_time"] + app["fills_late"] == app["fills"]
    assert app["passed"] == (app["fills_late"] == 0)


@pytest.mark.skipif(not DATA.is_dir(), reason="the Groove data is not here")
def test_bench_fills_shape_measures_fills_and_real_ones():
    out = autobeat("bench", "fills", "--part", "shape", "--grooves", "4", "--json")
    assert out.returncode == 0, out.stderr
    shape = json.loads(out.stdout.strip().splitlines()[-1])["shape"]
    assert shape["fills"] == 4 and shape["real_fill_windows"] > 20
    assert 0.0 <= shape["busiest_in_last_two_beats"] <= 1.0
    assert 0.0 < shape["real_hats_through_busiest"] < 1.0


