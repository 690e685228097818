"""engine/clockguard.py: what a clock input may send."""

from __future__ import annotations

import pytest

from engine.clockguard import RateGuard, describe, valid_message


@pytest.mark.parametrize("message", [
    [0xF8], [0xFA], [0xFB], [0xFC], [0xF2, 8, 0], [0x99, 42, 100], [0xC0, 5], [0xF1, 3],
    [0xF0, 1, 2, 0xF7],
])
def test_well_formed_messages_pass(message):
    assert valid_message(message)


@pytest.mark.parametrize("message", [
    [], [0x45], [0x45, 0x12], [0xF4], [0xF9], [0xFD], [0xF8, 0x33], [0x90, 60], [0xF2, 0x80, 0],
    [0xC0, 5, 6], [0xF0, 1, 2], [0x90, 60, 300],
])
def test_garbage_does_not(message):
    assert not valid_message(message)


def test_describe_is_short_hex():
    assert describe([0x45, 0x12]) == "45 12"
    assert describe(list(range(8))) == "00 01 02 03 04 05 ..."
    assert describe([]) == "(empty)"


def test_a_clock_at_1000_bpm_is_not_sane_and_one_at_300_is():
    guard = RateGuard()
    assert all(guard.tick(k * 60.0 / 300 / 24) for k in range(48))
    mad = RateGuard()
    verdicts = [mad.tick(k * 60.0 / 1000 / 24) for k in range(12)]
    assert verdicts[:6] == [True] * 6 and not any(verdicts[6:])
    assert mad.bpm == pytest.approx(1000.0)


def test_ticks_stamped_in_pairs_by_a_2048_frame_period_are_sane():
    guard = RateGuard()
    period = 2048 / 48000
    for k in range(24 * 8):
        assert guard.tick(((k * 60.0 / 133 / 24) // period) * period)
