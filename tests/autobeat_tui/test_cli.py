"""The `autobeat` command line (autobeat_tui/cli.py) and what its commands share."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from autobeat_tui.cli import build_parser, main
from autobeat_tui.commands import _options
from autobeat_tui.live.language import DEFAULT_GENRES

COMMANDS = {"app", "attach", "bank", "bench", "dataset", "eval", "generate", "host", "hosts",
            "play", "ports", "render", "send", "stop",
            "train"}


def test_every_command_is_listed_with_its_help_and_answers_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == COMMANDS
    listed = parser.format_help()
    for name in COMMANDS:
        module = __import__(f"autobeat_tui.commands.{name}", fromlist=["HELP"])
        assert f"{name}" in listed and module.HELP[:30] in " ".join(listed.split())
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        assert done.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: autobeat {name}")


def test_list_genres_works_without_a_command(capsys):
    assert main(["--list-genres"]) == 0
    top = capsys.readouterr().out.split()
    assert top == list(DEFAULT_GENRES)  # the shipped model knows the 18 Groove styles
    assert main(["generate", "--list-genres"]) == 0
    assert capsys.readouterr().out.split() == top


@pytest.mark.parametrize(("cpus", "threads"), [(1, 1), (2, 1), (4, 3), (16, 4)])
def test_model_commands_leave_a_core_free_as_the_app_does(monkeypatch, cpus, threads):
    from models.runner import BeatModel

    asked = []
    monkeypatch.setattr(_options.os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(BeatModel, "load", classmethod(lambda cls, path, n_threads: asked.append(
        n_threads)))
    _options.load_model(None)
    _options.load_model(None, threads=2)  # --threads 2
    assert asked == [threads, 2]


def test_dataset_help_names_the_files_it_writes(capsys):
    with pytest.raises(SystemExit):
        main(["dataset", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "a plain folder: all.txt" in text and "train.txt, validation.txt" in text


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
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["all.txt", "stats.json"]


def test_eval_refuses_a_missing_baseline_folder_before_the_work(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default ../shared/data/groove is not there
    (tmp_path / "beats").mkdir()
    assert main(["eval", "--data", str(tmp_path / "beats")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autobeat eval: --ngram-data: the default ../shared/data/groove is")
    assert main(["eval", "--data", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err == f"autobeat eval: --data: {tmp_path}/nothing is not a folder\n"
