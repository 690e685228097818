"""Offline render: a pattern played for N bars into a WAV file, faster than real time.

The pattern is played by an engine.player.Player on a clock set to each due time
(engine/hits.py), so the WAV holds exactly what the engine plays: swing,
micro-timing, velocities, mute and solo. Every hit starts at the sample nearest
its due time (within half a sample), counted from the first downbeat, which is
sample 0. After the last bar the sounds ring out (at most TAIL_S). The same
pattern, kit and rate give the same bytes. The file is written atomically: on
any failure nothing is left at the path (nor a temp file).
"""

from __future__ import annotations

import io
import os
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.drumsynth import DEFAULT_RATE, Sound
from engine.hits import SHADOW_KIT, FakeClock, HitCollector, advance
from engine.mixer import Mixer
from engine.player import Player
from engine.schedule import BAR_TICKS
from patterns.pattern import Pattern

TAIL_S = 2.0  # the longest ring-out after the last bar
BLOCK = 4096
MAX_BARS = 1024
RATES = (22050, 32000, 44100, 48000, 88200, 96000)


class RenderError(Exception):
    """A render that cannot be done or written: one line for the user."""


@dataclass(frozen=True)
class Render:
    """A finished render: the samples and where each hit was placed."""

    samples: np.ndarray  # float32 mono, -1..1
    rate: int
    hits: tuple[tuple[float, int, int, int], ...]  # (seconds, sample, track, velocity)
    loop_samples: int  # the bars without the ring-out


def schedule(pattern: Pattern, bars: int, mutes: Iterable[int] = (),
             solos: Iterable[int] = ()) -> list[tuple[float, int, int]]:
    """The pattern's note-ons over `bars` bars as (seconds from the downbeat, track, velocity)."""
    clock = FakeClock(0.0)
    player = Player(None, clock, SHADOW_KIT)
    collector = HitCollector(clock, lambda: player.latency)
    player.out = collector
    player.set_pattern(pattern, at="now")
    player.set_tempo(pattern.tempo, 0.0)
    for track in mutes:
        player.set_mute(track, True)
    for track in solos:
        player.set_solo(track, True)
    player.start(0.0, 0)
    origin = player.anchor_time
    advance(player, clock, player.time_of(bars * BAR_TICKS))
    return [(t - origin, track, velocity) for t, track, velocity in collector.take()]


def render(pattern: Pattern, sounds: Sequence[Sound], bars: int = 8, rate: int = DEFAULT_RATE,
           mutes: Iterable[int] = (), solos: Iterable[int] = ()) -> Render:
    """Render `bars` bars of `pattern` with `sounds` (see the module docstring)."""
    if not 1 <= bars <= MAX_BARS:
        raise RenderError(f"bars must be in 1..{MAX_BARS}, got {bars}")
    if rate not in RATES:
        raise RenderError(f"rate must be one of {', '.join(map(str, RATES))} Hz, got {rate}")
    hits = schedule(pattern, bars, mutes, solos)
    mixer = Mixer(sounds, rate)
    placed = []
    for t, track, velocity in hits:
        sample = round(t * rate)
        mixer.add(sample, track, velocity)
        placed.append((t, sample, track, velocity))
    loop = round(bars * BAR_TICKS * 60.0 / (pattern.tempo * 384) * rate)
    blocks = [mixer.render(loop)]
    tail = 0
    while mixer.busy() and tail < TAIL_S * rate:
        blocks.append(mixer.render(BLOCK))
        tail += BLOCK
    samples = np.concatenate(blocks)
    return Render(samples, rate, tuple(placed), loop)


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 2) -> bytes:
    """16-bit PCM WAV of mono float samples (copied to every channel)."""
    ints = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    if channels > 1:
        ints = np.repeat(ints, channels)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(ints.tobytes())
    return buffer.getvalue()


def write_file(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write through the project's atomic writer (patterns.files: temp file, fsync,
    rename); RenderError in one line if it fails, nothing partial left behind."""
    from patterns.files import FileError, write_atomic

    target = Path(path)
    if target.is_dir():
        raise RenderError(f"{path}: is a folder; give a file name such as beat.wav")
    if not target.parent.is_dir():
        what = "is not a folder" if target.parent.exists() else "does not exist"
        raise RenderError(f"{path}: {str(target.parent)!r} {what}")
    try:
        return write_atomic(target, data, what="render", verb="write the render")
    except FileError as exc:
        raise RenderError(str(exc)) from None


def render_to_file(pattern: Pattern, path: str | os.PathLike[str], bars: int = 8,
                   rate: int = DEFAULT_RATE, kit_dir: str | None = None,
                   mutes: Iterable[int] = (), solos: Iterable[int] = ()
                   ) -> tuple[Render, list[str]]:
    """Render and write a WAV file; (the render, the kit's problems). RenderError if not."""
    from engine.drumkit import load_sounds

    sounds, problems = load_sounds(kit_dir, rate)
    result = render(pattern, sounds, bars, rate, mutes, solos)
    write_file(path, wav_bytes(result.samples, rate))
    return result, problems


def detect_onsets(samples: np.ndarray, rate: int, threshold: float = 0.002,
                  quiet_s: float = 0.002, refractory_s: float = 0.02) -> np.ndarray:
    """Sample indices where a sound starts after quiet: |x| reaches `threshold` and the
    `quiet_s` before stayed below threshold / 4 (for patterns whose sounds decay
    between hits, as the benchmark's). Memory stays small on long streams: only
    samples that jump from below threshold / 4 to threshold are looked at."""
    x = np.abs(np.asarray(samples, dtype=np.float32))
    quiet = max(1, int(quiet_s * rate))
    low = threshold / 4
    jumps = np.flatnonzero((x[1:] >= threshold) & (x[:-1] < low)) + 1
    if len(x) and x[0] >= threshold:
        jumps = np.concatenate([[0], jumps])
    padded = np.concatenate([np.zeros(quiet, dtype=np.float32), x])
    keep = []
    for chunk in np.array_split(jumps, max(1, len(jumps) // 65536 + 1)):
        if len(chunk):
            before = padded[chunk[:, None] + np.arange(quiet)[None, :]]  # x[i-quiet:i]
            keep.append(chunk[before.max(axis=1) < low])
    candidates = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    onsets = []
    last = -(10**12)
    gap = int(refractory_s * rate)
    for i in candidates:
        if i - last >= gap:
            onsets.append(int(i))
            last = i
    return np.asarray(onsets, dtype=np.int64)


def _render_job(pattern: Pattern, path: str, bars: int, kit_dir: str | None,
                mutes: Iterable[int], solos: Iterable[int]) -> tuple[str, list[str]]:
    result, problems = render_to_file(pattern, path, bars, DEFAULT_RATE, kit_dir, mutes, solos)
    seconds = len(result.samples) / result.rate
    return f"rendered {bars} bars ({seconds:.1f} s, {len(result.hits)} hits) to {path}", problems


def render_elsewhere(pattern: Pattern, path: str, bars: int = 8, kit_dir: str | None = None,
                     mutes: Iterable[int] = (), solos: Iterable[int] = ()
                     ) -> tuple[str, list[str]]:
    """render_to_file in a process of its own (for the app: no mixing in its process);
    (a line saying what was written, the kit's problems). RenderError if it failed.

    A plain subprocess with pipes (the job pickled on stdin, the answer on stdout):
    inside a running Textual app, whose stdio is not the terminal's, multiprocessing
    cannot start a child.
    """
    import pickle
    import subprocess
    import sys

    job = pickle.dumps((pattern, str(path), bars, kit_dir, tuple(mutes), tuple(solos)))
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from engine.render import _job_main; _job_main()"],
            input=job, capture_output=True, timeout=600, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"the render process failed: {exc}") from None
    try:
        ok, *answer = pickle.loads(done.stdout)
    except Exception:  # noqa: BLE001 - it died before answering: its last line says why
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"the render process failed: {last[0]}") from None
    if not ok:
        raise RenderError(answer[0])
    return answer[0], answer[1]


def _job_main() -> None:
    """The render process: a pickled job on stdin, a pickled answer on stdout."""
    import pickle
    import sys

    job = pickle.loads(sys.stdin.buffer.read())
    try:
        answer = (True, *_render_job(*job))
    except RenderError as exc:
        answer = (False, str(exc))
    sys.stdout.buffer.write(pickle.dumps(answer))
