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
    step_ratio: float = 0.06  # a tempo step: the mean interval of the last step_run ticks
    step_run: int = 10  # is this share off the estimate, and every error has one sign
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
        self._errors: list[float] = []  # the latest loop errors (step_run of them)
        self._since_restart = 0
        self._n_d = 0  # intervals seen (the statistics below start as plain averages)
        self._recent: list[float] = []  # the last few arrivals (to restart a fit)
        self.errors_rms = 0.0
        self.steps = 0  # tempo steps detected
        self._prev_arrival: float | None = None
        self._d_mean: float | None = None
        self._d_prev = 0.0
        self._d_var = 0.0
        self._d_cov = 0.0

    @property
    def bpm(self) -> float | None:
        if self.period is None:
            return None
        return 60.0 / (self.period * TICKS_PER_BEAT)

    @property
    def jitter(self) -> float | None:
        """The standard deviation of the tick intervals (seconds), None before three."""
        return math.sqrt(max(0.0, self._d_var)) if self._n_d else None

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
        """One clock tick arrived at time t (seconds).

        Every tick counts as one, as MIDI says: two that arrive together (a stalled
        transport, or one that stamps a whole period's messages with one time) span
        two periods all the same, and the clamp in _advance keeps the odd time from
        dragging the estimate.
        """
        self._advance(t)

    def _advance(self, t: float) -> None:
        cfg = self.config
        self.count += 1
        prev = self.last_arrival
        self.last_arrival = t
        self._recent = (self._recent + [t])[-cfg.step_run - 1 :]
        self._jitter_stats(t)
        self._since_restart += 1
        if prev is not None and t - prev > 4 * (self.period or self._max_period / 4):
            # a gap of several ticks: the phase says nothing now, start over from here
            self.count = 1
            self._restart([t])
            return
        if self.predicted is not None and self.period is not None:
            e = t - self.predicted
            self._errors = (self._errors + [e])[-cfg.step_run :]
            if self._since_restart >= 2 * cfg.step_run and self._tempo_changed():
                self.steps += 1
                self._restart(self._recent[-cfg.step_run - 1 :])
                return
            self.errors_rms = math.sqrt(0.9 * self.errors_rms**2 + 0.1 * e * e)
            # one tick held up by the transport (a stall) must not drag the estimate
            # along: errors beyond a quarter period count as a quarter period (a real
            # tempo change shows as a run of errors, which _tempo_changed catches)
            limit = 0.25 * self.period
            t = self.predicted + max(-limit, min(limit, e))
        if self.acquiring:
            self._fit.append(t)
            self._fit_line()
        else:
            self._dll(t)

    def _tempo_changed(self) -> bool:
        """A run of loop errors of one sign while the recent ticks' tempo is off ours."""
        cfg = self.config
        errors, recent = self._errors, self._recent
        if len(errors) < cfg.step_run or len(recent) < cfg.step_run + 1 or self.period is None:
            return False
        if not (all(x > 0 for x in errors) or all(x < 0 for x in errors)):
            return False
        mean = (recent[-1] - recent[-cfg.step_run - 1]) / cfg.step_run
        return abs(mean - self.period) > cfg.step_ratio * self.period

    def _restart(self, arrivals: list[float]) -> None:
        self._since_restart = 0
        self._fit = list(arrivals)
        self._errors = []
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
            self.predicted = ts[-1] + self.period if self.period is not None else None
            return
        a = t_mean - p * k_mean
        self.period = p
        g = min(1.0, self.phase_gain())  # a wandering master: trust its latest tick more
        self.filtered = (1.0 - g) * (a + p * (n - 1)) + g * ts[-1]
        self.predicted = self.filtered + p

    def _jitter_stats(self, t: float) -> None:
        """Running variance and lag-1 covariance of the tick intervals.

        White jitter on the tick times (r) makes successive intervals anti-correlated:
        var(d) = q + 2r and cov(d_k, d_k-1) = -r, where q is the variance of a
        random walk of the ticks themselves (a master whose every interval wanders,
        as jack_midi_clock -J does). Both set the phase gain in _dll.
        """
        prev = self._prev_arrival
        self._prev_arrival = t
        if prev is None:
            return
        d = t - prev
        if self._d_mean is None:
            self._d_mean = d
            self._d_prev = d
            return
        if self.period is not None and abs(d - self.period) > 0.3 * self.period:
            return  # a tempo step or a dropout, not jitter
        self._n_d += 1
        w = max(1.0 / 96.0, 1.0 / self._n_d)
        self._d_mean += w * (d - self._d_mean)
        dev, dev_prev = d - self._d_mean, self._d_prev - self._d_mean
        self._d_var += w * (dev * dev - self._d_var)
        self._d_cov += w * (dev * dev_prev - self._d_cov)
        self._d_prev = d

    def phase_gain(self) -> float:
        """The steady-state Kalman gain of a random walk (q) seen through white noise (r)."""
        r = max(0.0, -self._d_cov)
        q = max(0.0, self._d_var + 2.0 * self._d_cov)
        if q <= 0.0:
            return 0.0
        if r <= 0.0:
            return 1.0
        p = (q + math.sqrt(q * q + 4.0 * q * r)) / 2.0
        return p / (p + r)

    def _dll(self, t: float) -> None:
        assert self.predicted is not None and self.period is not None
        e = t - self.predicted
        omega = min(2.0 * math.pi * self.config.bandwidth_hz * self.period, 0.5)
        # Adriaensen's loop; the phase gain rises when the master's ticks wander
        # (then the latest tick is the best guess of the next), never the period gain
        b = max(math.sqrt(2.0) * omega, min(1.0, self.phase_gain()))
        c = omega * omega
        self.filtered = self.predicted
        self.predicted = self.predicted + b * e + self.period
        self.period = min(self._max_period, max(self._min_period, self.period + c * e))

    def time_at(self, ticks_after_last: float) -> float | None:
        """The estimated time of a position, in clock ticks after the latest tick."""
        if self.period is None or self.predicted is None:
            return None
        return self.predicted + (ticks_after_last - 1.0) * self.period
