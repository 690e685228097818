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
        assert f"got {text.strip()!r}" in str(info.value), (where, action.option_strings)
        assert ".." in str(info.value)


@pytest.mark.parametrize(
    ("argv", "option", "rule"),
    [
        (["play", "x.mid", "--seconds", "nan"], "--seconds", "0..1e+06 (above 0)"),
        (["play", "x.mid", "--seconds", "0"], "--seconds", "(above 0)"),
        (["play", "x.mid", "--latency-ms", "-100000"], "--latency-ms", "0..1000"),
        (["play", "x.mid", "--bpm", "inf"], "--bpm", "20..300"),
        (["generate", "--threads", "100000"], "--threads", "1..256"),
        (["generate", "--threads", "-1"], "--threads", "1..256"),
        (["generate", "--seed", "-5"], "--seed", "0..4294967295"),
        (["generate", "--temperature", "nan"], "--temperature", "0.05..3"),
        (["bench", "timing", "--runs", "-3"], "--runs", "0.."),
    ],
)
def test_the_error_names_the_option_and_its_range(capsys, argv, option, rule):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {option}: must be " in err and rule in err


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
