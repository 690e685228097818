"""Following an external MIDI clock: tempo and phase from the ticks (24 a quarter note).

A second-order delay-locked loop as in Fons Adriaensen, "Using a DLL to filter
time" (2005). For each tick arriving at time t, with t1 the predicted time of that
tick and e2 the estimated period::

    e = t - t1          # the loop error
    t0 = t1             # the filtered time of this tick
    t1 += b * e + e2    # the predicted time of the next one
    e2 += c * e         # the period, corrected

with omega = 2 pi B e2, b = sqrt(2) omega, c = omega ** 2 for a bandwidth B (Hz).
The loop opens wide (fast lock, and a tempo step followed within a beat) and
narrows as it settles (rejects jitter); a run of large errors of one sign (a tempo
change) opens it again. Times are seconds on the engine's clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TICKS_PER_BEAT = 24


@dataclass(frozen=True, slots=True)
class FollowerConfig:
    acquire_ticks: int = 96  # ticks fitted by least squares after (re)locking (4 beats)
    bandwidth_hz: float = 0.5  # the loop's bandwidth once acquired
    step_ratio: float = 0.25  # |error| above this share of a period counts as a tempo step
    step_run: int = 2  # ... when so many in a row have the same sign
    min_bpm: float = 20.0
    max_bpm: float = 400.0


class ClockFollower:
    """Estimates tempo and phase from clock tick arrival times.

    Acquiring (after a start, a gap or a tempo step): a least-squares line through
    the ticks so far, the best estimate of a steady clock, which the DLL cannot beat
    while it has few ticks. Tracking: the DLL, narrow. Attributes after each `tick`:
    ``period`` (seconds a tick, None until two ticks), ``filtered`` (the filtered
    time of the latest tick) and ``predicted`` (when the next one is due).
    """

    def __init__(self, config: FollowerConfig | None = None) -> None:
        self.config = config or FollowerConfig()
        cfg = self.config
        self._min_period = 60.0 / (cfg.max_bpm * TICKS_PER_BEAT)
        self._max_period = 60.0 / (cfg.min_bpm * TICKS_PER_BEAT)
        self.reset()

    def reset(self) -> None:
        self.count = 0  # ticks since reset
        self.period: float | None = None
        self.filtered: float | None = None
        self.predicted: float | None = None
        self.last_arrival: float | None = None
        self._fit: list[float] = []  # arrival times while acquiring (one a tick)
        self._run = 0  # signed count of successive large errors
        self._recent: list[float] = []  # the last few arrivals (to restart a fit)
        self.errors_rms = 0.0
        self.steps = 0  # tempo steps detected

    @property
    def bpm(self) -> float | None:
        if self.period is None:
            return None
        return 60.0 / (self.period * TICKS_PER_BEAT)

    @property
    def acquiring(self) -> bool:
        return len(self._fit) < self.config.acquire_ticks

    def locked(self) -> bool:
        """Locked once a beat of ticks agrees with the estimate."""
        return (
            self.period is not None
            and self.count >= TICKS_PER_BEAT
            and self.errors_rms < 0.1 * self.period
        )

    def tick(self, t: float) -> None:
        """One clock tick arrived at time t (seconds)."""
        cfg = self.config
        self.count += 1
        prev = self.last_arrival
        self.last_arrival = t
        self._recent = (self._recent + [t])[-cfg.step_run - 1 :]
        if prev is not None and t - prev > 4 * (self.period or self._max_period / 4):
            # a gap of several ticks: the phase says nothing now, start over from here
            self.count = 1
            self._restart([t])
            return
        if self.predicted is not None and self.period is not None:
            e = t - self.predicted
            if abs(e) > cfg.step_ratio * self.period:
                sign = 1 if e > 0 else -1
                self._run = self._run + sign if self._run * sign > 0 else sign
                if abs(self._run) >= cfg.step_run:  # a tempo change: acquire again
                    self.steps += 1
                    self._restart(self._recent[-cfg.step_run :])
                    return
            else:
                self._run = 0
            self.errors_rms = math.sqrt(0.9 * self.errors_rms**2 + 0.1 * e * e)
        if self.acquiring:
            self._fit.append(t)
            self._fit_line()
        else:
            self._dll(t)

    def _restart(self, arrivals: list[float]) -> None:
        self._fit = list(arrivals)
        self._run = 0
        self.errors_rms = 0.0
        self._fit_line()

    def _fit_line(self) -> None:
        """Least squares t = a + p k through the acquired ticks (k = 0..n-1)."""
        ts = self._fit
        n = len(ts)
        if n < 2:
            self.filtered = ts[-1] if ts else None
            if ts and self.period is not None:  # keep the tempo as a guess, re-phase
                self.predicted = ts[-1] + self.period
            return
        k_mean = (n - 1) / 2.0
        t_mean = sum(ts) / n
        sxx = sum((k - k_mean) ** 2 for k in range(n))
        sxt = sum((k - k_mean) * (t - t_mean) for k, t in enumerate(ts))
        p = sxt / sxx
        if not self._min_period <= p <= self._max_period:  # a burst or nonsense: start over
            self._fit = [ts[-1]]
            self.filtered = ts[-1]
            return
        a = t_mean - p * k_mean
        self.period = p
        self.filtered = a + p * (n - 1)
        self.predicted = a + p * n

    def _dll(self, t: float) -> None:
        assert self.predicted is not None and self.period is not None
        e = t - self.predicted
        omega = min(2.0 * math.pi * self.config.bandwidth_hz * self.period, 0.5)
        b = math.sqrt(2.0) * omega
        c = omega * omega
        self.filtered = self.predicted
        self.predicted = self.predicted + b * e + self.period
        self.period = min(self._max_period, max(self._min_period, self.period + c * e))

    def time_at(self, ticks_after_last: float) -> float | None:
        """The estimated time of a position, in clock ticks after the latest tick."""
        if self.period is None or self.predicted is None:
            return None
        return self.predicted + (ticks_after_last - 1.0) * self.period
