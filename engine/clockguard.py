"""What a clock input may send: well-formed MIDI, and ticks at a tempo a band plays.

The player follows an external clock only while its input makes sense; bytes that
are not MIDI, or ticks far faster than any tempo (a looping cable, a broken
device), are reported and the beat goes on at the last good tempo instead.
"""

from __future__ import annotations

from collections import deque

from engine.follower import TICKS_PER_BEAT

FASTEST_BPM = 400.0  # ticks faster than this on average are not a clock
WINDOW = 6  # ticks averaged: transports that stamp a period's ticks with one time pass

_LENGTHS = {0xF1: 2, 0xF2: 3, 0xF3: 2, 0xF6: 1, 0xF7: 1, 0xF8: 1, 0xFA: 1, 0xFB: 1, 0xFC: 1,
            0xFE: 1, 0xFF: 1}


def valid_message(message: list[int]) -> bool:
    """Whether `message` is one complete MIDI message (SysEx aside)."""
    if not message:
        return False
    status = message[0]
    if not 0x80 <= status <= 0xFF:
        return False
    if status == 0xF0:
        return message[-1] == 0xF7 and all(b < 0x80 for b in message[1:-1])
    if status < 0xF0:
        length = 2 if status & 0xF0 in (0xC0, 0xD0) else 3
    else:
        length = _LENGTHS.get(status, 0)  # 0xF4, 0xF5, 0xF9, 0xFD: undefined
    return len(message) == length and all(0 <= b < 0x80 for b in message[1:])


def describe(message: list[int]) -> str:
    """A short hex dump for a report."""
    shown = " ".join(f"{b & 0xFF:02x}" for b in message[:6])
    return shown + (" ..." if len(message) > 6 else "") if message else "(empty)"


class RateGuard:
    """Tells a tick stream too fast to be a clock (1000 BPM) from one a band plays."""

    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=WINDOW + 1)
        self.floor = 60.0 / (FASTEST_BPM * TICKS_PER_BEAT)  # the shortest mean interval

    def reset(self) -> None:
        self._times.clear()

    def tick(self, t: float) -> bool:
        """Note a tick at t; True while the last WINDOW intervals make a clock."""
        self._times.append(t)
        return self.sane()

    def sane(self) -> bool:
        times = self._times
        if len(times) <= WINDOW:
            return True
        return (times[-1] - times[0]) / WINDOW >= self.floor

    def short(self, t: float) -> bool:
        """Whether a tick at t came sooner after the last one than the floor."""
        return bool(self._times) and t - self._times[-1] < self.floor

    @property
    def bpm(self) -> float | None:
        """The tempo the recent ticks' median interval means, or None without one."""
        times = list(self._times)
        intervals = sorted(b - a for a, b in zip(times, times[1:], strict=False))
        if not intervals or intervals[len(intervals) // 2] <= 0:
            return None
        return 60.0 / (intervals[len(intervals) // 2] * TICKS_PER_BEAT)
