"""The built-in kit and kit folders: velocity, determinism, WAV files and their problems."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest

from engine.drumkit import FILE_NAMES, kit_problems, load_sounds, read_wav
from engine.drumsynth import builtin_sounds, gain, render_hit
from patterns.grid import TRACKS

RATE = 48000


def _write_wav(path, samples, rate=RATE, channels=1, width=2):
    ints = (np.asarray(samples) * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(ints.tobytes())


def test_twelve_sounds_deterministic_with_a_sharp_attack():
    a, b = builtin_sounds(RATE), builtin_sounds(RATE)
    assert len(a) == len(TRACKS) == 12
    for x, y in zip(a, b, strict=True):
        assert x.body.dtype == np.float32
        assert np.array_equal(x.body, y.body) and np.array_equal(x.snap, y.snap)
        # the first sample carries the attack: an onset is exact to the sample
        assert abs(x.body[0]) >= 0.3 * np.max(np.abs(x.body))
    lengths = [len(s) / RATE for s in a]
    assert lengths[4] < 0.1 < lengths[6]  # closed hat short, open hat long
    assert lengths[10] >= 1.5  # the crash rings


@pytest.mark.parametrize("track", range(1, 13))
def test_velocity_louder_and_brighter(track):
    sound = builtin_sounds(RATE)[track - 1]
    window = int(0.05 * RATE)
    rms = [np.sqrt(np.mean(render_hit(sound, v)[:window] ** 2)) for v in range(1, 128)]
    assert all(b > a for a, b in zip(rms, rms[1:], strict=False))
    assert 20 * np.log10(rms[-1] / rms[0]) > 30  # about 36 dB from velocity 1 to 127

    def brightness(v):  # the spectral centroid of the first 10 ms
        x = render_hit(sound, v)[: int(0.01 * RATE)]
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        return (spectrum * freqs).sum() / spectrum.sum()

    assert brightness(127) > brightness(20)


def test_gain_curve():
    assert gain(127) == pytest.approx(1.0)
    assert gain(1) < 0.02
    assert gain(64) < gain(65)


def test_kit_folder_replaces_sounds_and_names_each_problem(tmp_path):
    _write_wav(tmp_path / "kick.wav", np.linspace(0.5, 0, 4800))
    _write_wav(tmp_path / "snare.wav", np.ones(100) * 0.25, rate=44100)
    (tmp_path / "clap.wav").write_text("not a wav")
    (tmp_path / "chh.wav").mkdir()
    _write_wav(tmp_path / "ride.wav", np.zeros(0))
    sounds, problems = load_sounds(tmp_path, RATE)
    builtin = builtin_sounds(RATE)
    assert sounds[0].source == str(tmp_path / "kick.wav")
    assert sounds[0].body[0] == pytest.approx(0.5, abs=1e-3) and len(sounds[0]) == 4800
    assert sounds[0].snap is None
    for i in (1, 2, 3, 4, 11):  # rim missing, snare/clap/chh/ride bad: built-in
        assert np.array_equal(sounds[i].body, builtin[i].body)
    by_file = {line.split(":")[0]: line for line in problems}
    assert by_file[str(tmp_path / "snare.wav")].endswith(
        "its sample rate is 44100 Hz; the kit plays at 48000 Hz; the built-in snare plays")
    assert "not a WAV file" in by_file[str(tmp_path / "clap.wav")]
    assert "is a folder" in by_file[str(tmp_path / "chh.wav")]
    assert "no samples" in by_file[str(tmp_path / "ride.wav")]
    assert by_file[str(tmp_path / "rim.wav")].endswith("missing; the built-in rim plays")
    assert len(problems) == 11  # every file but kick.wav, one line each
    assert all("\n" not in line for line in problems)
    assert kit_problems(tmp_path, RATE) == problems


def test_missing_kit_folder_is_one_line(tmp_path):
    sounds, problems = load_sounds(tmp_path / "nope", RATE)
    assert problems == [f"{tmp_path / 'nope'}: kit folder does not exist; the built-in kit plays"]
    assert len(sounds) == 12


def test_read_wav_formats(tmp_path):
    x = np.array([0.0, 0.5, -0.5, 0.25], dtype=np.float32)
    _write_wav(tmp_path / "a16.wav", x)
    _write_wav(tmp_path / "a32.wav", x, width=4)
    stereo = np.repeat(x, 2)
    _write_wav(tmp_path / "st.wav", stereo, channels=2)
    for name in ("a16.wav", "a32.wav", "st.wav"):
        got, rate = read_wav(tmp_path / name)
        assert rate == RATE
        assert np.allclose(got, x, atol=1e-4), name
    # 32-bit float, written by hand (the wave module writes PCM only)
    data = x.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, RATE, RATE * 4, 4, 32)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack(
        "<I", len(data)) + data
    (tmp_path / "f.wav").write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    got, _ = read_wav(tmp_path / "f.wav")
    assert np.array_equal(got, x)


def test_file_names_follow_the_tracks():
    assert FILE_NAMES[:3] == ("kick.wav", "rim.wav", "snare.wav")
    assert FILE_NAMES[4:7] == ("chh.wav", "phh.wav", "ohh.wav")
    assert len(FILE_NAMES) == 12
