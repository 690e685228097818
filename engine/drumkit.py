"""A kit of twelve sounds: the built-in one, or a folder of WAV files replacing it.

``load_sounds(kit_dir, rate)`` returns the twelve sounds and the problems found:
a folder holds one WAV file per track, named after the track (``kick.wav``,
``rim.wav``, ``snare.wav``, ``clap.wav``, ``chh.wav``, ``phh.wav``, ``ohh.wav``,
``ltom.wav``, ``mtom.wav``, ``htom.wav``, ``crash.wav``, ``ride.wav``). A file that
is missing, unreadable, not a WAV file, at another sample rate, empty or longer
than MAX_SECONDS gives one line naming the file and the problem, and that track
keeps its built-in sound. WAV files may be 8/16/24/32-bit PCM or 32/64-bit float,
mono or stereo (mixed to mono). Velocity sets a user sound's loudness only.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from engine.drumsynth import DEFAULT_RATE, Sound, builtin_sounds
from patterns.grid import TRACKS

MAX_SECONDS = 10.0
FILE_NAMES = tuple(f"{t.name}.wav" for t in TRACKS)

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


class WavError(ValueError):
    """A WAV file that cannot be used: the message says why (without the path)."""


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate) of a WAV file; WavError or OSError if not."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a WAV file (no RIFF/WAVE header)")
    pos, fmt, frames = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise WavError("its fmt chunk is too short")
            fmt = struct.unpack("<HHIIHH", body[:16])
            if fmt[0] == _EXTENSIBLE and len(body) >= 26:
                fmt = (struct.unpack("<H", body[24:26])[0],) + fmt[1:]
        elif chunk_id == b"data":
            frames = body
        pos += 8 + size + (size & 1)
    if fmt is None or frames is None:
        raise WavError("not a WAV file (no fmt or data chunk)")
    kind, channels, rate, _, _, bits = fmt
    if channels < 1:
        raise WavError("it has no channels")
    width = bits // 8
    usable = len(frames) - len(frames) % (width * channels) if width else 0
    raw = frames[:usable]
    if kind == _PCM and bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif kind == _PCM and bits == 16:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif kind == _PCM and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints & 0x800000, ints - 0x1000000, ints)
        x = ints.astype(np.float32) / 8388608.0
    elif kind == _PCM and bits == 32:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    elif kind == _FLOAT and bits in (32, 64):
        x = np.frombuffer(raw, "<f4" if bits == 32 else "<f8").astype(np.float32)
    else:
        raise WavError(f"unsupported sample format ({kind=}, {bits} bits): use 16- or 24-bit PCM")
    if not len(x):
        raise WavError("it holds no samples")
    x = x.reshape(-1, channels).mean(axis=1).astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise WavError("it holds samples that are not numbers")
    return x, rate


def load_sound(path: Path, rate: int) -> Sound:
    """One user sound; WavError with the reason (no path) if it cannot be used."""
    try:
        samples, file_rate = read_wav(path)
    except FileNotFoundError:
        raise WavError("missing") from None
    except IsADirectoryError:
        raise WavError("is a folder, not a WAV file") from None
    except OSError as exc:
        raise WavError(f"cannot read: {exc.strerror or exc}") from None
    if file_rate != rate:
        raise WavError(f"its sample rate is {file_rate} Hz; the kit plays at {rate} Hz")
    if len(samples) > MAX_SECONDS * rate:
        raise WavError(f"longer than {MAX_SECONDS:g} s")
    return Sound(samples, None, str(path))


def kit_problems(kit_dir: str | Path | None, rate: int = DEFAULT_RATE) -> list[str]:
    """The problems load_sounds would find (reading the files, making no sounds)."""
    return _load_files(kit_dir, rate)[1]


def _load_files(kit_dir: str | Path | None, rate: int
                ) -> tuple[dict[int, Sound], list[str]]:
    if kit_dir is None:
        return {}, []
    folder = Path(kit_dir)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        return {}, [f"{folder}: kit folder {what}; the built-in kit plays"]
    found, problems = {}, []
    for i, name in enumerate(FILE_NAMES):
        path = folder / name
        try:
            found[i] = load_sound(path, rate)
        except WavError as exc:
            problems.append(f"{path}: {exc}; the built-in {TRACKS[i].name} plays")
    return found, problems


def load_sounds(kit_dir: str | Path | None, rate: int = DEFAULT_RATE
                ) -> tuple[tuple[Sound, ...], list[str]]:
    """The twelve sounds (built-in where the folder has none usable) and the problems."""
    sounds = list(builtin_sounds(rate))
    found, problems = _load_files(kit_dir, rate)
    for i, sound in found.items():
        sounds[i] = sound
    return tuple(sounds), problems
