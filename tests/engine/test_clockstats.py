"""engine/clockstats.py: the phase offset and its drift over the last minute."""

from __future__ import annotations

import pytest

from engine.clockstats import PhaseLog


def test_offset_is_the_latest_seconds_mean_and_drift_spans_the_minute():
    log = PhaseLog()
    for k in range(90 * 10):  # 90 s, 10 readings a second, sliding 1 ms a minute
        t = 1000.0 + k / 10
        log.add(t, 0.002 + (t - 1000.0) / 60 * 0.001)
    now = 1000.0 + 89.95
    assert log.offset(now) == pytest.approx(0.002 + 89.45 / 60 * 0.001, abs=1e-6)
    slid, span = log.drift(now)
    assert span == pytest.approx(60.0, abs=1.0)
    assert slid == pytest.approx(span / 60 * 0.001, abs=2e-5)


def test_nothing_to_say_before_two_seconds_or_after_a_long_silence():
    log = PhaseLog()
    assert log.offset(5.0) is None and log.drift(5.0) is None
    log.add(5.2, 0.001)
    assert log.offset(5.5) == pytest.approx(0.001) and log.drift(5.5) is None
    log.add(6.1, 0.003)
    assert log.drift(6.5) == (pytest.approx(0.002), 1.0)
    assert log.offset(200.0) is None  # a minute and more without ticks
