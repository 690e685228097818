"""`autobeat bank ...` end to end, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autobeat_tui.cli import main
from patterns.bank import Bank, BankLock, Chain, load_bank, save_bank
from patterns.pattern import Event, GroupParams, Pattern
from tests.conftest import ROOT


@pytest.fixture
def bank_file(tmp_path):
    path = tmp_path / "live.json"
    pattern = Pattern(
        (Event(0, 1, 0, 120), Event(4, 3, 2, 90), Event(2, 5, -3, 64)),
        tuple(GroupParams("funk", seed=7, model="m.gguf") for _ in range(4)),
        tempo=96.0,
        swing=54.0,
        name="Funk 1",
    )
    save_bank(Bank({"A01": pattern}, {"song": Chain("song", (("A01", 2),))}, "live"), path)
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["bank", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ls_and_show(bank_file, capsys):
    code, out, _ = _run(capsys, "ls", "--bank", str(bank_file))
    assert code == 0
    assert out.splitlines()[0] == f"{bank_file}: 1 of 128 slots filled, 1 chains"
    assert any(line.startswith("A01   Funk 1") and " 96 " in line for line in out.splitlines())
    assert "chain song: A01*2 (4 bars)" in out
    code, out, _ = _run(capsys, "ls", "--json", "--bank", str(bank_file))
    data = json.loads(out)
    assert data["slots"]["A01"]["groups"]["drums"] == {
        "events": 2, "genre": "funk", "type": "beat", "density": "mid",
        "intensity": "mid", "seed": 7, "model": "m.gguf",
    }  # fmt: skip
    assert data["chains"] == {"song": [["A01", 2]]}
    code, out, _ = _run(capsys, "show", "a1", "--bank", str(bank_file))
    assert out.splitlines()[0] == "A01: Funk 1  96 BPM  swing 54%"
    kick = next(line for line in out.splitlines() if line.strip().startswith("kick"))
    assert kick.split("│")[1][0] == "█"  # a hit on step 0, velocity 120
    code, out, _ = _run(capsys, "show", "A01", "--tokens", "--bank", str(bank_file))
    assert out.splitlines()[0] == (
        "genre:funk type:beat density:mid intensity:mid group:1 "
        "step:0 track:1 offset:0 velocity:120 step:4 track:3 offset:2 velocity:90 end"
    )


def test_copy_clear_rename_and_chain(bank_file, capsys):
    bank = str(bank_file)
    assert _run(capsys, "copy", "A01", "b5", "--bank", bank)[:2] == (0, "copied A01 to B05\n")
    code, _, err = _run(capsys, "copy", "A01", "B05", "--bank", bank)
    assert code == 2
    assert err == "autobeat bank: slot B05 holds 'Funk 1'; add --force to replace it\n"
    assert _run(capsys, "rename", "B05", "Funk 2", "--bank", bank)[0] == 0
    assert _run(capsys, "copy", "A01", "B05", "--force", "--bank", bank)[0] == 0
    code, out, err = _run(capsys, "chain", "verse", "A01x4", "b5", "C01*2", "--bank", bank)
    assert out == "verse: A01*4 B05 C01*2 (14 bars)\n"
    assert err == "note: C01 empty: played as 2 bars of rest\n"
    assert load_bank(bank_file).bank.chain("verse").entries == (
        ("A01", 4), ("B05", 1), ("C01", 2),
    )  # fmt: skip
    assert _run(capsys, "chain", "verse", "--delete", "--bank", bank)[0] == 0
    code, out, _ = _run(capsys, "clear", "A01", "A02", "--bank", bank)
    assert out == "cleared A01 (A02 already empty)\n"
    assert load_bank(bank_file).bank.filled() == ["B05"]
    code, _, err = _run(capsys, "chain", "x", "A01x0", "--bank", bank)
    assert code == 2 and "repeats must be in 1..99, got 0" in err
    code, _, err = _run(capsys, "clear", "Z9", "--bank", bank)
    assert err == "autobeat bank: slot must be A01..H16 (banks A..H, slots 01..16), got 'Z9'\n"
    # the previous save is there to go back to
    assert _run(capsys, "restore", "--bank", bank)[0] == 0
    assert load_bank(bank_file).bank.filled() == ["A01", "B05"]


def test_export_and_import(bank_file, tmp_path, capsys):
    bank = str(bank_file)
    song = tmp_path / "song.mid"
    code, out, _ = _run(capsys, "export", "--chain", "song", str(song), "--bank", bank)
    assert out == f"wrote chain 'song' (4 bars) to {song}\n"
    code, out, _ = _run(capsys, "export", "A01", str(tmp_path / "a.mid"), "--bank", bank)
    assert code == 0 and (tmp_path / "a.mid").exists()
    code, out, _ = _run(capsys, "export", "--all", str(tmp_path / "all.mid"), "--bank", bank)
    assert out.startswith("wrote 1 slots (2 bars)")
    code, _, err = _run(capsys, "export", "--all", "A01", str(tmp_path / "x.mid"), "--bank", bank)
    assert code == 2
    assert err == (
        "autobeat bank: export takes SLOT OUT.mid, --chain NAME OUT.mid or --all OUT.mid\n"
    )
    code, out, _ = _run(
        capsys, "import", str(song), "--slot", "C01", "--windows", "--genre", "funk",
        "--bank", bank,
    )  # fmt: skip
    assert out == "imported 2 patterns into C01..C02\n"
    loaded = load_bank(bank_file).bank
    assert loaded["C02"].events == loaded["A01"].events
    code, _, err = _run(capsys, "import", str(song), "--slot", "C02", "--bank", bank)
    assert code == 2 and "C02 already filled; add --force" in err and "next free: C03" in err
    code, _, err = _run(
        capsys, "import", str(tmp_path / "none.mid"), "--slot", "D1", "--bank", bank
    )
    assert code == 2 and "cannot read" in err


def test_a_bank_in_use_by_another_program_is_refused(bank_file, capsys):
    with BankLock(bank_file):
        result = subprocess.run(
            [sys.executable, "-m", "autobeat_tui.cli", "bank", "clear", "A01",
             "--bank", str(bank_file)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert "the bank is in use by process" in result.stderr
    assert load_bank(bank_file).bank.filled() == ["A01"]


def test_an_unreadable_bank_is_reported_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "autobeat-bank", "version": 7}')
    code, _, err = _run(capsys, "ls", "--bank", str(path))
    assert code == 2
    assert err == (
        f"autobeat bank: {path}: bank format version 7 is newer than this program reads "
        "(up to 2); update autobeat to open it\n"
    )
    code, _, err = _run(capsys, "copy", "A01", "A02", "--bank", str(path))
    assert code == 2
    assert path.read_text() == '{"format": "autobeat-bank", "version": 7}'


def test_the_default_bank_is_made_on_first_use(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code, out, _ = _run(capsys, "ls")
    assert code == 0
    assert "A01   Rock 1" in out
    assert (tmp_path / "autobeat" / "banks" / "default.json").exists()


def test_bench_bank_prints_json(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "autobeat_tui.cli", "bench", "bank", "--json", "--repeat", "2",
         "--dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["busy"]["slots"] == 128
    assert report["busy"]["events"] == 128 * 64
    assert set(report["busy"]["save_ms"]) == {"median", "p90", "max"}
    assert list(tmp_path.iterdir()) == []  # cleaned up
