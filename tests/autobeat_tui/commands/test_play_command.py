"""`autobeat play` (autobeat_tui/commands/play.py): what FILE may be, and a headless run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autobeat_tui.commands.play import load_pattern
from autobeat_tui.errors import UserError
from codec.midi import write_midi
from patterns.bank import Bank, save_bank
from patterns.pattern import Event, Pattern

LINE1 = "genre:funk type:beat density:high intensity:mid group:1 step:0 track:1 offset:0 velocity:96 step:4 track:3 offset:2 velocity:84 end"  # noqa: E501
LINE2 = "genre:funk type:beat density:low intensity:low group:2 step:2 track:5 offset:-3 velocity:60 end"  # noqa: E501


def test_token_text(tmp_path):
    path = tmp_path / "beat.txt"
    path.write_text(f"# a comment\n{LINE1}\n\n{LINE2}\n")
    pattern = load_pattern(path)
    cells = [(e.step, e.track, e.offset) for e in pattern.events]
    assert cells == [(0, 1, 0), (2, 5, -3), (4, 3, 2)]
    assert pattern.group_params(2).density == "low"


def test_token_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(f"{LINE1}\n{LINE2.replace('track:5', 'track:1')}\n")
    with pytest.raises(UserError, match=r"bad.txt:2: .*track 1 is not in group 2"):
        load_pattern(path)
    path.write_text(f"{LINE1}\n{LINE1}\n")
    with pytest.raises(UserError, match="group 1 given twice"):
        load_pattern(path)


def test_midi_file(tmp_path):
    source = Pattern(events=(Event(0, 1, 0, 100), Event(8, 3, 5, 90)), tempo=97.0)
    path = write_midi(tmp_path / "beat.mid", [source])
    pattern = load_pattern(path)
    assert [(e.step, e.track, e.offset) for e in pattern.events] == [(0, 1, 0), (8, 3, 5)]
    assert pattern.tempo == pytest.approx(97.0)
    with pytest.raises(UserError, match="--slot is for bank files"):
        load_pattern(path, slot="A01")


def test_bank_slot(tmp_path):
    path = tmp_path / "bank.json"
    a = Pattern(events=(Event(0, 1),))
    b = Pattern(events=(Event(4, 3),))
    save_bank(Bank().with_slot("A01", a).with_slot("B02", b), path)
    assert load_pattern(path, "B02").events == b.events
    assert load_pattern(path).events == a.events  # no --slot: the first pattern
    with pytest.raises(UserError, match="slot C03 is empty"):
        load_pattern(path, "C03")


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="cannot read"):
        load_pattern(tmp_path / "nothere.txt")


def _no_midi_env() -> dict[str, str]:
    env = dict(os.environ)
    env["JACK_DEFAULT_SERVER"] = "autobeat-no-such-server"
    env["JACK_NO_START_SERVER"] = "1"
    return env


def test_play_runs_headless_without_a_midi_system(tmp_path):
    path = tmp_path / "beat.txt"
    path.write_text(LINE1 + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "autobeat_tui.cli", "play", str(path), "--bpm", "174",
         "--seconds", "1", "--json"],
        capture_output=True, text=True, timeout=60, env=_no_midi_env(),
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["output"] == "none" and summary["tempo"] == 174.0
    assert "playing silently" in out.stderr


def test_ports_without_a_midi_system():
    out = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "ports"],
                         capture_output=True, text=True, timeout=60, env=_no_midi_env())
    assert out.returncode == 0
    assert "No MIDI system answers" in out.stdout


def test_play_rejects_bad_arguments(tmp_path):
    path = tmp_path / "beat.txt"
    path.write_text(LINE1 + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "autobeat_tui.cli", "play", str(path), "--bpm", "400"],
        capture_output=True, text=True, timeout=60, env=_no_midi_env(),
    )
    assert out.returncode == 2 and "--bpm must be in 20..300, got 400" in out.stderr
