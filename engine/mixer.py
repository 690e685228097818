"""The mixer: hits at exact sample positions in, blocks of mono samples out.

``add(sample, track, velocity)`` queues a hit to start at that sample;
``render(n)`` returns the next n samples (float32, -1..1). A hit starts exactly at
its sample when it was added before the block holding that sample was rendered;
one added too late starts at the block's first sample and is counted in ``late``.

Each track plays one voice at a time: a new hit fades the ringing one out over
CHOKE_S (no click), and a closed or pedal hat chokes the open hat the same way.
The same hits give the same samples (no randomness, no clock): renders are
deterministic. Used by the offline render (engine/render.py) and the sound card
output (engine/audio.py) alike.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.drumsynth import CHOKE_S, CHOKERS, OPEN_HAT, Sound, bright, gain

MASTER = 0.5  # headroom: a few loud hits together stay below full scale


@dataclass
class _Voice:
    track: int
    sound: Sound
    start: int  # the sample it starts at
    gain: float
    bright: float
    stop: int | None = None  # choked or retriggered here: fades out over the fade

    def end(self, fade: int) -> int:
        end = self.start + len(self.sound.body)
        return end if self.stop is None else min(end, self.stop + fade)


class Mixer:
    """Mixes the hits of one stream; see the module docstring."""

    def __init__(self, sounds: Sequence[Sound], rate: int, master: float = MASTER) -> None:
        self.sounds = tuple(sounds)
        self.rate = rate
        self.master = np.float32(master)
        self.fade = max(1, int(CHOKE_S * rate))
        self._ramp = np.linspace(1.0, 0.0, self.fade, endpoint=False).astype(np.float32)
        self.position = 0  # the next sample render() returns
        self.voices: list[_Voice] = []
        self._queue: list[tuple[int, int, int, int]] = []  # (sample, order, track, velocity)
        self._order = 0
        self.late = 0  # hits that started after their sample
        self.late_by: list[int] = []  # ... by how many samples
        self.started: list[tuple[int, int, int]] = []  # (asked sample, started sample, track)
        self.keep_started = False

    def add(self, sample: int, track: int, velocity: int) -> None:
        """Queue a hit of `track` (1..12) at `sample` with `velocity` (1..127)."""
        if not 1 <= track <= len(self.sounds):
            raise ValueError(f"track must be in 1..{len(self.sounds)}, got {track}")
        self._order += 1
        heapq.heappush(self._queue, (int(sample), self._order, track, velocity))

    def clear(self) -> None:
        """Silence at once: every voice and queued hit goes (stop, a new kit)."""
        self.voices.clear()
        self._queue.clear()

    def _start(self, asked: int, track: int, velocity: int) -> None:
        at = asked
        if asked < self.position:
            at = self.position
            self.late += 1
            self.late_by.append(self.position - asked)
        if self.keep_started:
            self.started.append((asked, at, track))
        for v in self.voices:
            if v.start <= at and (v.track == track or (track in CHOKERS and v.track == OPEN_HAT)):
                v.stop = at if v.stop is None else min(v.stop, at)
        self.voices.append(
            _Voice(track, self.sounds[track - 1], at, gain(velocity), bright(velocity))
        )

    def render(self, n: int) -> np.ndarray:
        """The next n samples (float32 mono)."""
        pos, end = self.position, self.position + n
        out = np.zeros(n, dtype=np.float32)
        queue = self._queue
        while queue and queue[0][0] < end:
            sample, _, track, velocity = heapq.heappop(queue)
            self._start(sample, track, velocity)
        fade = self.fade
        alive = []
        for v in self.voices:
            v_end = v.end(fade)
            if v_end <= pos:
                continue
            a, b = max(pos, v.start), min(end, v_end)
            if a < b:
                i, j = a - v.start, b - v.start
                chunk = v.sound.body[i:j] * np.float32(v.gain)
                snap = v.sound.snap
                if snap is not None and i < len(snap):
                    k = min(j, len(snap))
                    chunk[: k - i] += snap[i:k] * np.float32(v.gain * v.bright)
                if v.stop is not None and b > v.stop:
                    f0 = max(a, v.stop)  # the fade's part inside this block
                    chunk[f0 - a : b - a] *= self._ramp[f0 - v.stop : b - v.stop]
                out[a - pos : b - pos] += chunk
            if v_end > end:
                alive.append(v)
        self.voices = alive
        self.position = end
        out *= self.master
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def busy(self) -> bool:
        """Whether anything still sounds or waits."""
        return bool(self.voices or self._queue)
