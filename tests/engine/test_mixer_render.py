"""The mixer and the offline render: exact onsets, choke, determinism, atomic files."""

from __future__ import annotations

import errno
import hashlib
import os
import wave

import numpy as np
import pytest

from autobeat_tui.bench.audio import onset_pattern
from engine.drumkit import load_sounds
from engine.drumsynth import CHOKE_S, Sound, builtin_sounds
from engine.mixer import MASTER, Mixer
from engine.render import (
    RenderError,
    detect_onsets,
    render,
    render_to_file,
    schedule,
    wav_bytes,
)
from patterns.grid import TICKS_PER_STEP, swing_ticks
from patterns.pattern import Event, Pattern

RATE = 48000


def _flat(n: int) -> Sound:
    return Sound(np.full(n, 0.25, dtype=np.float32))


def _mixer(n: int = 4800) -> Mixer:
    return Mixer([_flat(n)] * 12, RATE, master=1.0)


def test_a_hit_starts_at_its_sample_across_blocks():
    mixer = _mixer(100)
    mixer.add(250, 1, 127)
    out = np.concatenate([mixer.render(128) for _ in range(4)])
    assert np.flatnonzero(out)[0] == 250 and np.flatnonzero(out)[-1] == 349
    assert mixer.late == 0


def test_a_hit_added_after_its_block_is_late_and_counted():
    mixer = _mixer(100)
    mixer.render(128)
    mixer.add(50, 1, 127)
    out = mixer.render(128)
    assert np.flatnonzero(out)[0] == 0  # at the block's start, not lost
    assert mixer.late == 1 and mixer.late_by == [78]


def test_closed_hat_chokes_open_hat_with_a_short_fade():
    mixer = _mixer(RATE)
    mixer.add(0, 7, 127)  # open hat
    mixer.add(1000, 5, 127)  # closed hat: chokes it
    mixer.add(0, 1, 127)  # a kick rings on
    out = mixer.render(4000)
    fade = int(CHOKE_S * RATE)
    assert out[999] == pytest.approx(0.5)  # open hat + kick (master 1, full velocity)
    assert out[1000] == pytest.approx(0.75)  # closed starts, open fades from full
    assert 0.5 < out[1000 + fade // 2] < 0.75
    assert out[1000 + fade + 5] == pytest.approx(0.5)  # kick + closed hat, open gone
    ohh = [v for v in mixer.voices if v.track == 7]
    assert not ohh  # finished and dropped


def test_pedal_hat_chokes_but_snare_does_not():
    for track, choked in ((6, True), (3, False)):
        mixer = _mixer(RATE)
        mixer.add(0, 7, 127)
        mixer.add(100, track, 127)
        out = mixer.render(2000)
        assert out[1500] == pytest.approx(0.25 if choked else 0.5)


def test_retrigger_fades_the_ringing_voice():
    mixer = _mixer(RATE)
    mixer.add(0, 1, 127)
    mixer.add(500, 1, 127)
    out = mixer.render(2000)
    assert out[1500] == pytest.approx(0.25)  # one voice, not two


def test_master_gain_and_clip():
    mixer = Mixer([_flat(100)] * 12, RATE)
    mixer.add(0, 1, 127)
    assert mixer.render(10)[0] == pytest.approx(0.25 * MASTER)
    for track in range(1, 13):
        mixer.add(10, track, 127)
    out = mixer.render(10)
    assert np.all(out == 1.0)  # 12 x 0.25 x MASTER = 1.5: clipped to full scale


def test_render_places_every_hit_within_half_a_sample_of_its_time():
    pattern = onset_pattern(swing=62.0)
    result = render(pattern, builtin_sounds(RATE), bars=4, rate=RATE)
    spt = 60.0 / (pattern.tempo * 384)
    expected = sorted(
        (loop * 3072 + e.step * TICKS_PER_STEP + e.offset + swing_ticks(e.step, 62.0)) % (4 * 1536)
        * spt * RATE
        for loop in range(2) for e in pattern.events
    )
    assert len(result.hits) == 24
    exact = np.array([t * RATE for t, _, _, _ in result.hits])
    assert np.allclose(sorted(exact), expected, atol=1e-6)
    onsets = detect_onsets(result.samples, RATE)
    assert len(onsets) == 24
    assert np.max(np.abs(onsets - np.sort(exact))) <= 0.5 + 1e-9
    # micro-timing and swing really moved hits off the grid: some by more than 100 samples
    grid = np.array([round(x / (TICKS_PER_STEP * spt * RATE)) * TICKS_PER_STEP * spt * RATE
                     for x in np.sort(exact)])
    assert np.max(np.abs(np.sort(exact) - grid)) > 100


def test_render_is_deterministic_to_the_byte():
    pattern = onset_pattern()
    a = wav_bytes(render(pattern, builtin_sounds(RATE), 2, RATE).samples, RATE)
    b = wav_bytes(render(pattern, builtin_sounds(RATE), 2, RATE).samples, RATE)
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    other = wav_bytes(render(pattern.with_swing(60.0), builtin_sounds(RATE), 2, RATE).samples,
                      RATE)
    assert other != a


def test_render_length_loud_hits_louder_and_mutes():
    events = (Event(0, 1, 0, 30), Event(8, 1, 0, 127), Event(16, 3, 0, 100), Event(24, 5, 0, 90),
              Event(30, 11, 0, 90))
    pattern = Pattern(events, tempo=120.0)
    result = render(pattern, builtin_sounds(RATE), bars=2, rate=RATE)
    assert result.loop_samples == 4 * RATE  # 2 bars at 120 BPM: 4 s
    assert len(result.samples) > result.loop_samples  # the ring-out
    soft = np.abs(result.samples[: RATE // 10]).max()
    loud = np.abs(result.samples[RATE: RATE + RATE // 10]).max()
    assert loud > 3 * soft
    muted = render(pattern, builtin_sounds(RATE), 2, RATE, mutes=(1,))
    assert [track for _, _, track, _ in muted.hits] == [3, 5, 11]
    soloed = render(pattern, builtin_sounds(RATE), 2, RATE, solos=(5,))
    assert [track for _, _, track, _ in soloed.hits] == [5]


def test_schedule_follows_tempo():
    pattern = Pattern((Event(4, 3, 0, 100),), tempo=90.0)
    [(t, track, velocity)] = schedule(pattern, 2)
    assert t == pytest.approx(4 * TICKS_PER_STEP * 60.0 / (90.0 * 384))
    assert (track, velocity) == (3, 100)


def test_render_to_file_writes_a_wav(tmp_path):
    path = tmp_path / "beat.wav"
    result, problems = render_to_file(onset_pattern(), path, bars=2)
    assert problems == []
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, RATE)
        assert w.getnframes() == len(result.samples)


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "beat.wav"

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(RenderError) as info:
        render_to_file(onset_pattern(), path, bars=2)
    assert "the disk is full" in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no file, no temp file


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "beat.wav"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(
        OSError(errno.EACCES, "denied")))
    with pytest.raises(RenderError):
        render_to_file(onset_pattern(), path, bars=2)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["beat.wav"]


def test_render_bad_arguments():
    with pytest.raises(RenderError, match="bars must be in 1..1024"):
        render(onset_pattern(), builtin_sounds(RATE), bars=0)
    with pytest.raises(RenderError, match="rate must be one of"):
        render(onset_pattern(), builtin_sounds(RATE), bars=2, rate=12345)


def test_a_user_kit_sound_is_rendered(tmp_path):
    with wave.open(str(tmp_path / "kick.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.full(480, 16384, dtype="<i2")).tobytes())
    sounds, problems = load_sounds(tmp_path, RATE)
    result = render(Pattern((Event(0, 1, 0, 127),)), sounds, bars=1, rate=RATE)
    assert np.allclose(result.samples[:480], 0.5 * MASTER, atol=1e-3)
    assert np.all(result.samples[480:] == 0)
    assert len(problems) == 11
