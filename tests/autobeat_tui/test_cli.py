from __future__ import annotations

import json
import subprocess
import sys

from autobeat_tui.cli import build_parser, main


def test_help_lists_the_subcommands(capsys):
    parser = build_parser()
    text = parser.format_help()
    for name in ("app", "dataset", "bench"):
        assert name in text


def test_dataset_error_is_one_line(tmp_path, capsys):
    assert main(["dataset", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"autobeat dataset: {tmp_path / 'missing'}: not a folder"]


def test_dataset_command_on_a_plain_folder(tmp_path):
    import mido

    folder = tmp_path / "beats" / "house"
    folder.mkdir(parents=True)
    midi = mido.MidiFile()
    midi.tracks.append(mido.MidiTrack(
        [mido.Message("note_on", channel=9, note=36, velocity=100, time=0 if i == 0 else 480)
         for i in range(8)]
    ))
    midi.save(folder / "four.mid")
    result = subprocess.run(
        [sys.executable, "-m", "autobeat_tui.cli", "dataset", str(tmp_path / "beats"),
         "--out", str(tmp_path / "corpus"), "--quiet"],
        capture_output=True, text=True, check=True,
    )
    summary = json.loads(result.stdout)
    assert summary["windows"] == {"all": 1}
    assert summary["sequences"] == 4
