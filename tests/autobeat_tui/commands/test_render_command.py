"""`autobeat render`: a slot or file to WAV; deterministic bytes; bad input in one line."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import wave

import pytest

from autobeat_tui.bench.audio import onset_pattern
from autobeat_tui.cli import main
from patterns.bank import save_bank
from patterns.bank_model import Bank
from patterns.pattern import Event, Pattern


@pytest.fixture
def bank(tmp_path):
    path = tmp_path / "bank.json"
    bank = Bank().with_slot("A01", onset_pattern()).with_slot(
        "B02", Pattern((Event(0, 1, 0, 120), Event(4, 3, 0, 100)), tempo=100.0))
    save_bank(bank, path)
    return path


def _render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "render", *args],
                          capture_output=True, text=True, timeout=120)


def test_render_a_slot_twice_gives_the_same_bytes(bank, tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    first = _render("A01", str(a), "--bank", str(bank), "--bars", "4")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("wrote 4 bars at 120 BPM (")
    assert "24 hits" in first.stdout
    assert _render("a01", str(b), "--bank", str(bank), "--bars", "4").returncode == 0
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    with wave.open(str(a)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (48000, 2, 2)
        assert w.getnframes() >= 4 * 2 * 48000  # 4 bars at 120 BPM: 8 s (and a ring-out)


def test_render_rate_and_tempo(bank, tmp_path):
    out = tmp_path / "b.wav"
    assert main(["render", "B02", str(out), "--bank", str(bank), "--bars", "2",
                 "--rate", "44100"]) == 0
    with wave.open(str(out)) as w:
        assert w.getframerate() == 44100
        assert w.getnframes() >= round(2 * 4 * 60 / 100 * 44100)  # 2 bars at 100 BPM


def test_render_a_token_file(tmp_path):
    text = tmp_path / "beat.txt"
    text.write_text("genre:rock type:beat density:mid intensity:mid group:1 step:0 track:1 "
                    "offset:0 velocity:100 step:8 track:3 offset:0 velocity:90 end\n")
    out = tmp_path / "t.wav"
    assert main(["render", str(text), str(out), "--bars", "1"]) == 0
    assert out.stat().st_size > 44


@pytest.mark.parametrize("args, message", [
    (["A09", "x.wav"], "slot A09 of {bank} is empty"),
    (["Z99", "x.wav"], "Z99: no such file, and not a slot (A01..H16)"),
    (["A01", "x.mp3"], "the output must end in .wav, got 'x.mp3'"),
    (["A01", "x.wav", "--bars", "0"], "--bars must be in 1..1024, got 0"),
    (["A01", "x.wav", "--rate", "12345"], "--rate must be one of 22050, 32000, 44100, 48000, "
                                          "88200, 96000, got 12345"),
])
def test_bad_input_is_one_line(bank, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["render", *args, "--bank", str(bank)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"autobeat render: {message.format(bank=bank)}"]
    assert not (tmp_path / "x.wav").exists()


def test_an_unwritable_path_is_one_line_and_leaves_nothing(bank, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["render", "A01", str(blocker / "x.wav"), "--bank", str(bank)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"autobeat render: {blocker / 'x.wav'}: {str(blocker)!r} is not a folder"]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["render", "A01", "/proc/autobeat-test.wav", "--bank", str(bank)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("autobeat render: /proc/autobeat-test.wav: cannot")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_kit_files_are_named_one_line_each_and_the_render_goes_on(bank, tmp_path, capsys):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "kick.wav").write_text("not a wav")
    with wave.open(str(kit / "snare.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"\x00\x10" * 100)
    out = tmp_path / "k.wav"
    assert main(["render", "B02", str(out), "--bank", str(bank), "--kit-dir", str(kit)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 12  # kick, snare bad; ten missing
    assert (f"autobeat render: {kit / 'kick.wav'}: not a WAV file (no RIFF/WAVE header); "
            "the built-in kick plays") in err
    assert (f"autobeat render: {kit / 'snare.wav'}: its sample rate is 22050 Hz; the kit plays "
            "at 48000 Hz; the built-in snare plays") in err
    assert out.exists()
