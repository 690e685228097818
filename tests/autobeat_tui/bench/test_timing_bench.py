"""`autobeat bench timing`'s arithmetic: where lateness came from, and the worst of runs."""

from __future__ import annotations

import pytest

from autobeat_tui.bench.timing import _causes, _targets, _worst
from engine import messages as m


def report(lateness, note_arrival, note_stalled, clock_sent=(), clock_arrival=(),
           clock_stalled=(), wake_late=()):
    return m.TimingReport(
        tuple(lateness), tuple(clock_sent), 0.0, 0.0, 0.0, 0, 174.0, "SCHED_FIFO 70",
        note_arrival=tuple(note_arrival), clock_arrival=tuple(clock_arrival),
        wake_late=tuple(wake_late), note_stalled=tuple(note_stalled),
        clock_stalled=tuple(clock_stalled))


def test_a_note_the_os_held_back_is_put_down_to_the_os():
    # note 1: on time; note 2: the loop got to it 2.5 ms late (a late wake-up);
    # note 3: the engine was kept from running 1.5 ms while it spun; note 4: its own 1.2 ms
    r = report([0.00003, 0.0026, 0.0016, 0.0012], [-0.0004, 0.0025, -0.0002, -0.0003],
               [0.0, 0.0, 0.0015, 0.0], wake_late=[0.00001, 0.0025, 0.00002])
    c = _causes(r, [x * 1000 for x in r.lateness], steal_ms=20.0)
    assert c["os_wake_late_ms"] == {"p99": pytest.approx(2.5), "max": pytest.approx(2.5),
                                    "over_1ms": 1, "sleeps": 3}
    assert c["late_over_1ms_os_share_over_half"] == 2  # notes 2 and 3, not note 4
    assert c["engine_own_ms"]["max"] == pytest.approx(1.2)
    assert c["os_share_ms_max"] == pytest.approx(2.5)
    assert c["steal_ms"] == 20.0


def test_tick_jitter_without_the_os_delays():
    period = 60 / 174 / 24
    sent = [k * period for k in range(10)]
    sent[5] += 0.003  # one tick went out 3 ms late because the OS woke the engine late
    arrival = [0.0] * 10
    arrival[5] = 0.003
    r = report([], [], [], clock_sent=sent, clock_arrival=arrival, clock_stalled=[0.0] * 10)
    c = _causes(r, [], steal_ms=None)
    assert c["clock_ticks_os_over_0_5ms"] == 1
    assert c["clock_tick_sd_ms_engine_own"] == pytest.approx(0.0, abs=1e-9)


def test_the_headline_is_the_worst_run_and_targets_judge_it():
    good = {"lateness_ms": {"p50": 0.02, "p99": 0.1, "max": 0.4}, "drift_ms": 0.01,
            "clock_tick_sd_ms": 0.05}
    bad = {"lateness_ms": {"p50": 0.03, "p99": 0.09, "max": 4.0}, "drift_ms": -0.02,
           "clock_tick_sd_ms": 0.2}
    worst = _worst([good, bad])
    assert worst == {"lateness_ms": {"p50": 0.03, "p99": 0.1, "max": 4.0}, "drift_ms": -0.02,
                     "clock_tick_sd_ms": 0.2}
    assert all(_targets(good).values())
    met = _targets(worst)
    assert not met["lateness_max_le_3ms"] and not met["clock_tick_sd_le_0_15ms"]
    assert met["lateness_p99_le_1ms"] and met["drift_le_1ms"]


def test_the_link_clock_sd_is_judged_within_each_stretch_of_one_tempo():
    from autobeat_tui.bench.timing import _segment_sd

    at_128 = [i * 60 / 128 / 24 for i in range(100)]  # exact ticks at 128 BPM
    start = at_128[-1] + 1.0
    at_140 = [start + i * 60 / 140 / 24 for i in range(100)]
    at_140[50] += 0.0003  # one tick 0.3 ms late
    segments = [(0.0, at_128[-1] + 0.5), (start, at_140[-1] + 1.0)]
    sd = _segment_sd(at_128 + at_140, segments)
    # the tempo change is not jitter; the late tick is (0.3 ms twice in 99 intervals)
    assert sd == pytest.approx(0.3 * (2 / 99) ** 0.5, abs=0.002)
    assert _segment_sd(at_128, [(0.0, at_128[-1] + 0.5)]) == pytest.approx(0.0, abs=1e-6)


def test_the_link_figures_of_issue_4_are_targets():
    lk = {"tempo_taken_beats": 0.0, "phase_error_ms": {"p99": 0.7},
          "peer_tempo_change_followed_beats": 0.1, "our_tempo_change_taken_by_peer_beats": 0.0,
          "engine_lateness_ms": {"p50": 0.05, "p99": 0.2, "max": 0.9},
          "clock_tick_sd_ms": 0.04, "drift_ms": -0.02}
    base = {"lateness_ms": {"p99": 0.1, "max": 1.0}, "drift_ms": 0.0, "clock_tick_sd_ms": 0.01}
    assert all(_targets({**base, "link": lk}).values())
    bad = _targets({**base, "link": {**lk, "clock_tick_sd_ms": 0.2, "drift_ms": 1.5}})
    assert not bad["link_clock_tick_sd_le_0_15ms"] and not bad["link_drift_le_1ms"]
