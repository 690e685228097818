"""The one guard on command-line numbers: every numeric option of every command."""

from __future__ import annotations

import argparse

import pytest

from autobeat_tui.cli import build_parser, main
from autobeat_tui.commands._numbers import Number, numeric_actions


def _options():
    found = numeric_actions(build_parser())
    assert len(found) >= 20  # generate, play, eval, train and the benchmarks
    return found


def test_every_numeric_option_has_the_guard():
    bare = [f"{where} {a.option_strings}" for where, a in _options()
            if not isinstance(a.type, Number)]
    assert bare == []


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e309", "", "x", "100000000000000"])
def test_every_numeric_option_refuses_non_finite_and_out_of_range(text):
    for where, action in _options():
        with pytest.raises(argparse.ArgumentTypeError) as info:
            action.type(text)
        shown = text.strip() if text.strip() else "''"
        assert str(info.value).endswith(f"got {shown}"), (where, action.option_strings)
        assert ".." in str(info.value)


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["play", "x.mid", "--seconds", "nan"], "play: --seconds must be in 0..1e+06 (above 0), "
         "got nan"),
        (["play", "x.mid", "--seconds", "0"], "play: --seconds must be in 0..1e+06 (above 0), "
         "got 0"),
        (["play", "x.mid", "--latency-ms", "-100000"], "play: --latency must be in -100..100, "
         "got -100000"),
        (["play", "x.mid", "--bpm", "inf"], "play: --bpm must be in 20..300, got inf"),
        (["generate", "--threads", "100000"], "generate: --threads must be an integer in "
         "1..256, got 100000"),
        (["generate", "--threads", "-1"], "generate: --threads must be an integer in 1..256, "
         "got -1"),
        (["generate", "--seed", "-5"], "generate: --seed must be an integer in 0..4294967295, "
         "got -5"),
        (["generate", "--temperature", "nan"], "generate: --temperature must be in 0.05..3, "
         "got nan"),
        (["bench", "timing", "--runs", "-3"], "bench timing: --runs must be an integer in "
         "0..1000000000, got -3"),
    ],
)
def test_the_error_is_one_line_naming_the_option_and_its_range(capsys, argv, line):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"autobeat {line}"]


def test_api_is_one_of_the_midi_systems(capsys):
    for argv in (["play", "x.mid", "--api", "foo"], ["ports", "--api", "foo"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "argument --api: invalid choice: 'foo'" in capsys.readouterr().err


def test_a_good_number_passes():
    parser = build_parser("play")
    args = parser.parse_args(["play", "x.mid", "--seconds", "2.5", "--latency-ms", "10"])
    assert args.seconds == 2.5 and args.latency_ms == 10.0


def test_an_empty_slot_name_is_refused(tmp_path, capsys):
    bank = tmp_path / "b.json"
    assert main(["bank", "ls", "--bank", str(bank)]) in (0, 2)
    assert main(["play", str(bank), "--slot", ""]) == 2
    assert "--slot: slot must be A01..H16" in capsys.readouterr().err
