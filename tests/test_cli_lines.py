"""What used to end in a traceback is one line now; names are printed escaped."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from patterns.bank import Bank, save_bank
from patterns.pattern import Event, Pattern


def _run(*argv, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autobeat_tui.cli", *argv], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


def _one_line(result, prefix: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(prefix), lines
    assert "Traceback" not in result.stderr
    return lines[0]


def _beat(folder):
    import mido

    folder.mkdir(parents=True, exist_ok=True)
    midi = mido.MidiFile()
    midi.tracks.append(mido.MidiTrack(
        [mido.Message("note_on", channel=9, note=36, velocity=100, time=0 if i == 0 else 480)
         for i in range(8)]))
    midi.save(folder / "four.mid")


def test_dataset_out_at_an_existing_file(tmp_path):
    _beat(tmp_path / "beats" / "rock")
    (tmp_path / "corpus").write_text("mine")
    line = _one_line(_run("dataset", str(tmp_path / "beats"), "--out", str(tmp_path / "corpus")),
                     "autobeat dataset: ")
    assert "is a file, not a folder for the corpus" in line
    assert (tmp_path / "corpus").read_text() == "mine"


def test_dataset_with_a_short_info_csv_row(tmp_path):
    (tmp_path / "info.csv").write_text("style,beat_type,time_signature,midi_filename\nfunk,beat\n")
    line = _one_line(_run("dataset", str(tmp_path), "--out", str(tmp_path / "out")),
                     "autobeat dataset: ")
    assert line.endswith("info.csv: line 2: a short row (style and midi_filename are needed)")


@pytest.mark.parametrize("content", [None, b"not midi", b"MThd\x00\x00\x00\x06\x00\x00\x00\x01"
                                                       b"\x00\x60MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"])
def test_dataset_on_a_folder_with_no_usable_file_is_an_error(tmp_path, content):
    data = tmp_path / "data"
    data.mkdir()
    if content is not None:
        (data / "x.mid").write_bytes(content)
    line = _one_line(_run("dataset", str(data), "--out", str(tmp_path / "out"), "--quiet"),
                     "autobeat dataset: ")
    assert "no usable MIDI file" in line
    assert not (tmp_path / "out").exists()


def test_bank_ls_when_the_data_folder_cannot_be_made(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": "/proc/autobeat-cannot-be-here"}
    line = _one_line(_run("bank", "ls", env=env), "autobeat bank: ")
    assert "cannot make the bank folder" in line


def test_a_kit_channel_that_is_not_a_number(tmp_path):
    kit = tmp_path / "kit.toml"
    kit.write_text("channel = true\n")
    line = _one_line(_run("bank", "export", "--bank", str(tmp_path / "b.json"), "--all",
                          str(tmp_path / "o.mid"), "--kit", str(kit)), "autobeat bank: ")
    assert "channel must be in 1..16, got True" in line


def test_names_with_escape_bytes_are_printed_escaped(tmp_path):
    bank = tmp_path / "b\x1b[31m.json"
    save_bank(Bank({"A01": Pattern((Event(0, 1, 0, 99),), name="evil\x1b[2J\x07")}), bank)
    for argv in (["bank", "ls", "--bank", str(bank)], ["bank", "show", "A01", "--bank",
                                                       str(bank)]):
        result = _run(*argv)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "evil\\x1b[2J\\x07" in result.stdout
    line = _one_line(_run("bank", "show", "A09", "--bank", str(bank)), "autobeat bank: ")
    assert "\x1b" not in line
