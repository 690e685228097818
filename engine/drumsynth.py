"""The built-in drum kit: twelve sounds synthesised here, one for each track.

Nothing is sampled: every sound is made from oscillators and seeded noise with
numpy, so the kit is the project's own (MIT, as the rest) and the same on every
machine. Each sound comes in two layers, made once per sample rate:

- ``body``: the sound itself (a pitched sweep, filtered noise, six square waves
  for the metal ...), its first sample at full attack so an onset is exact;
- ``snap``: a bright transient (a short click of high-passed noise, or the
  stick on the head) that velocity brings in.

A hit of velocity v plays ``gain(v) * (body + bright(v) * snap)``: louder and
brighter as v rises (both factors grow with v, and the snap's energy sits in
the first milliseconds where it adds to the body's), so loudness is monotonic
in velocity. The open hat is choked by the closed and pedal hats (engine/mixer.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patterns.grid import TRACKS

DEFAULT_RATE = 48000
SEED = 0x0A70BEA7  # the noise of every sound: the same kit on every machine
OPEN_HAT = 7
CHOKERS = frozenset({5, 6})  # closed and pedal hat stop the open hat
CHOKE_S = 0.004  # how fast a choked (or retriggered) sound fades out
SNAP_LEVEL = 0.5  # the snap layer's peak against the body's
# each sound's peak at velocity 127 (before the snap): a balanced kit at one fader
LEVELS = (1.0, 0.55, 0.85, 0.7, 0.4, 0.35, 0.4, 0.75, 0.7, 0.65, 0.45, 0.4)


@dataclass(frozen=True)
class Sound:
    """One track's sound at one sample rate (float32, mono, peak about 1)."""

    body: np.ndarray
    snap: np.ndarray | None = None  # velocity-dependent brightness; None: loudness only
    source: str = "built-in"  # "built-in" or the WAV file it came from

    def __len__(self) -> int:
        return len(self.body)


def gain(velocity: int) -> float:
    """Loudness of a hit: about -36 dB at velocity 1, 0 dB at 127 (a square law, as
    drum machines use), strictly rising."""
    v = max(1, min(127, int(velocity))) / 127.0
    return 0.015 + 0.985 * v * v


def bright(velocity: int) -> float:
    """How much of the snap layer a hit gets: none when soft, all at 127."""
    v = max(1, min(127, int(velocity))) / 127.0
    return v**1.5


def render_hit(sound: Sound, velocity: int) -> np.ndarray:
    """The samples of one hit (a new float32 array)."""
    g = np.float32(gain(velocity))
    if sound.snap is None:
        return sound.body * g
    out = sound.body.copy()
    n = len(sound.snap)
    out[:n] += np.float32(bright(velocity)) * sound.snap
    out *= g
    return out


# --- building blocks -------------------------------------------------------------------


def _t(seconds: float, rate: int) -> np.ndarray:
    return np.arange(int(seconds * rate), dtype=np.float64) / rate


def _decay(t: np.ndarray, tau: float) -> np.ndarray:
    return np.exp(-t / tau)


def _band(noise: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    """Noise band-passed in the frequency domain (applied before the envelope, so the
    attack stays sharp), normalised to a peak of 1."""
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(len(noise), 1.0 / rate)
    spectrum[(freqs < low) | (freqs > high)] = 0.0
    out = np.fft.irfft(spectrum, len(noise))
    peak = np.max(np.abs(out))
    return out / peak if peak > 0 else out


def _sweep(t: np.ndarray, rate: int, start: float, end: float, tau: float) -> np.ndarray:
    """cos of a pitch falling exponentially from start to end Hz (cos: full attack at 0)."""
    freq = end + (start - end) * np.exp(-t / tau)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return np.cos(phase - phase[0])


def _click(rate: int, rng: np.random.Generator, seconds: float = 0.004,
           low: float = 2500.0) -> np.ndarray:
    """A short bright click: high-passed noise under a fast decay, starting at its peak."""
    t = _t(seconds, rate)
    noise = _band(rng.standard_normal(len(t) * 4), rate, low, min(20000.0, rate / 2.2))[: len(t)]
    noise[0] = 1.0
    return noise * _decay(t, seconds / 5)


def _metal(t: np.ndarray, base: float) -> np.ndarray:
    """Six square waves at the TR-808's inharmonic ratios, summed (the hats and cymbals)."""
    ratios = (1.0, 1.4471, 1.6170, 1.9265, 2.5028, 2.6637)
    out = np.zeros_like(t)
    for r in ratios:
        out += np.sign(np.cos(2 * np.pi * base * r * t) + 1e-9)
    return out / len(ratios)


def _sizzle(metal: np.ndarray, t: np.ndarray, rate: int, tau: float) -> np.ndarray:
    """The metal's top octave over its first 30 ms: what a harder stick adds to a hat or
    cymbal."""
    n = min(len(t), int(0.03 * rate))
    top = _highpass(metal[:n], rate, min(11000.0, rate / 4))
    return _finish(top * _decay(t[:n], min(tau, 0.01)), 0.002, rate)


def _highpass(x: np.ndarray, rate: int, cutoff: float) -> np.ndarray:
    """A brick-wall high-pass in the frequency domain, keeping the first sample's attack."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    spectrum[freqs < cutoff] = 0.0
    return np.fft.irfft(spectrum, len(x))


def _finish(x: np.ndarray, fade_s: float, rate: int) -> np.ndarray:
    """Peak 1, a short fade at the end (no click when the sound stops), float32."""
    x = np.asarray(x, dtype=np.float64)
    n = min(len(x), max(1, int(fade_s * rate)))
    x[-n:] *= np.linspace(1.0, 0.0, n)
    peak = np.max(np.abs(x))
    if peak > 0:
        x = x / peak
    return x.astype(np.float32)


def _attack(x: np.ndarray, rate: int) -> np.ndarray:
    """Put the sound's full attack on its first sample: a 0.3 ms decaying step."""
    t = np.arange(len(x)) / rate
    return x + np.sign(x[0] if x[0] != 0 else 1.0) * 0.6 * _decay(t, 0.0003)


# --- the twelve sounds -------------------------------------------------------------------


def _kick(rate: int, rng: np.random.Generator) -> Sound:
    t = _t(0.45, rate)
    body = _sweep(t, rate, 160.0, 48.0, 0.03) * _decay(t, 0.16)
    body = _attack(body, rate)
    return Sound(_finish(body, 0.02, rate), _finish(_click(rate, rng, 0.006), 0.001, rate))


def _rim(rate: int, rng: np.random.Generator) -> Sound:
    t = _t(0.06, rate)
    body = (np.cos(2 * np.pi * 1720 * t) * 0.6 + np.cos(2 * np.pi * 480 * t) * 0.8)
    body = body * _decay(t, 0.008)
    return Sound(_finish(_attack(body, rate), 0.005, rate),
                 _finish(_click(rate, rng, 0.002), 0.0005, rate))


def _snare(rate: int, rng: np.random.Generator) -> Sound:
    t = _t(0.3, rate)
    tone = (np.cos(2 * np.pi * 185 * t) + 0.6 * np.cos(2 * np.pi * 330 * t)) * _decay(t, 0.05)
    wires = _band(rng.standard_normal(len(t)), rate, 1500, 12000) * _decay(t, 0.07)
    body = _attack(0.7 * tone + 0.8 * wires, rate)
    return Sound(_finish(body, 0.02, rate), _finish(_click(rate, rng, 0.005), 0.001, rate))


def _clap(rate: int, rng: np.random.Generator) -> Sound:
    t = _t(0.35, rate)
    noise = _band(rng.standard_normal(len(t)), rate, 900, 5000)
    env = np.zeros_like(t)
    for start in (0.0, 0.011, 0.022):  # three hands, then the room
        mask = t >= start
        env[mask] += _decay(t[mask] - start, 0.004) * (t[mask] < start + 0.011)
    env += 0.7 * _decay(np.maximum(t - 0.03, 0), 0.08) * (t >= 0.03)
    body = _attack(noise * env, rate)
    return Sound(_finish(body, 0.02, rate), _finish(_click(rate, rng, 0.003), 0.0005, rate))


def _hat(rate: int, rng: np.random.Generator, seconds: float, tau: float) -> Sound:
    t = _t(seconds, rate)
    metal = _highpass(_metal(t, 310.0) + 0.3 * rng.standard_normal(len(t)), rate, 6500)
    body = _attack(metal * _decay(t, tau), rate)
    return Sound(_finish(body, min(0.01, seconds / 4), rate), _sizzle(metal, t, rate, tau))


def _tom(rate: int, rng: np.random.Generator, pitch: float) -> Sound:
    t = _t(0.5, rate)
    body = _sweep(t, rate, pitch * 1.6, pitch, 0.05) * _decay(t, 0.14)
    body += 0.15 * _band(rng.standard_normal(len(t)), rate, 500, 4000) * _decay(t, 0.02)
    return Sound(_finish(_attack(body, rate), 0.02, rate),
                 _finish(_click(rate, rng, 0.004), 0.001, rate))


def _cymbal(rate: int, rng: np.random.Generator, seconds: float, tau: float,
            base: float, ping: float) -> Sound:
    t = _t(seconds, rate)
    metal = _metal(t, base) + 0.6 * rng.standard_normal(len(t))
    metal = _highpass(metal, rate, 4000)
    body = metal * _decay(t, tau)
    if ping:  # the ride's bell
        body += 0.5 * np.cos(2 * np.pi * ping * t) * _decay(t, tau / 2)
    return Sound(_finish(_attack(body, rate), 0.05, rate), _sizzle(metal, t, rate, tau))


def builtin_sounds(rate: int = DEFAULT_RATE) -> tuple[Sound, ...]:
    """The twelve sounds, track 1..12 in order, at `rate` Hz (deterministic)."""
    if not 8000 <= rate <= 192000:
        raise ValueError(f"sample rate must be in 8000..192000 Hz, got {rate}")
    rng = np.random.default_rng(SEED)
    sounds = (
        _kick(rate, rng),
        _rim(rate, rng),
        _snare(rate, rng),
        _clap(rate, rng),
        _hat(rate, rng, 0.09, 0.018),  # closed
        _hat(rate, rng, 0.07, 0.012),  # pedal
        _hat(rate, rng, 0.8, 0.22),  # open
        _tom(rate, rng, 95.0),
        _tom(rate, rng, 135.0),
        _tom(rate, rng, 190.0),
        _cymbal(rate, rng, 2.0, 0.6, 420.0, 0.0),  # crash
        _cymbal(rate, rng, 1.4, 0.4, 520.0, 2400.0),  # ride
    )
    assert len(sounds) == len(TRACKS)
    return tuple(
        Sound(s.body * np.float32(level), None if s.snap is None else
              s.snap * np.float32(level * SNAP_LEVEL))
        for s, level in zip(sounds, LEVELS, strict=True)
    )
