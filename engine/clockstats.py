"""How well the engine keeps to the clock it follows, for `:clock`.

The phase offset is where the engine's own timeline put each incoming beat (tick)
minus when it came: positive, the engine is ahead of the source. It is kept as one
mean a second over the last minute; the drift is how far that mean moved across
the minute, the sign of a sync that slides.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

MINUTE_S = 60


class PhaseLog:
    """Per-second means of the phase offset, the last minute of them."""

    def __init__(self) -> None:
        self._seconds: deque[list[float]] = deque(maxlen=MINUTE_S + 1)  # [second, sum, n]

    def reset(self) -> None:
        self._seconds.clear()

    def add(self, t: float, offset: float) -> None:
        second = float(int(t))
        if self._seconds and self._seconds[-1][0] == second:
            entry = self._seconds[-1]
            entry[1] += offset
            entry[2] += 1
        elif not self._seconds or second > self._seconds[-1][0]:
            self._seconds.append([second, offset, 1])

    def _means(self, now: float) -> list[tuple[float, float]]:
        return [(s, total / n) for s, total, n in self._seconds if now - s <= MINUTE_S + 1]

    def offset(self, now: float) -> float | None:
        """The latest second's mean offset (seconds), or None without one."""
        means = self._means(now)
        return means[-1][1] if means else None

    def drift(self, now: float) -> tuple[float, float] | None:
        """(latest minus oldest mean offset, seconds between them) over the last minute."""
        means = self._means(now)
        if len(means) < 2:
            return None
        return means[-1][1] - means[0][1], means[-1][0] - means[0][0]


def tightest(a: Callable[[], float], b: Callable[[], object], tries: int = 3):
    """Two clocks read back to back: (a's mid time, b's reading), of the `tries` pairs
    the one with the least a-time between (the OS interrupted it least)."""
    best = None
    for _ in range(tries):
        a0 = a()
        value = b()
        a1 = a()
        if best is None or a1 - a0 < best[0]:
            best = (a1 - a0, (a0 + a1) / 2.0, value)
    assert best is not None
    return best[1], best[2]
