"""The clock follower on synthetic tick streams, and the player following them."""

from __future__ import annotations

import random

import pytest
from engine_fakes import FakeClock, RecordingPort
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.follower import ClockFollower
from engine.messages import ClockProblem
from engine.player import Player
from patterns.pattern import Event, Pattern

PERIOD_JACK = 64 / 48000  # timestamps arrive quantized to a JACK period


def ticks(bpm: float, n: int, start: float = 10.0, jitter: float = 0.0, seed: int = 1):
    rng = random.Random(seed)
    period = 60.0 / bpm / 24
    out = []
    for k in range(n):
        t = start + k * period + rng.uniform(-jitter, jitter) * period
        out.append((t // PERIOD_JACK) * PERIOD_JACK + 0.0003)
    return out


def test_locks_within_a_beat_and_within_a_tenth_bpm_after_four():
    f = ClockFollower()
    stream = ticks(133.0, 24 * 8)
    for t in stream[:25]:
        f.tick(t)
    assert f.bpm == pytest.approx(133.0, rel=0.005)
    for t in stream[25:97]:
        f.tick(t)
    assert abs(f.bpm - 133.0) < 0.1
    assert f.locked()


def test_rejects_jitter():
    f = ClockFollower()
    stream = ticks(133.0, 24 * 16, jitter=0.10)
    errors = []
    for t in stream:
        if f.count > 24 * 4:
            errors.append(abs(f.predicted - t))
        f.tick(t)
    assert abs(f.bpm - 133.0) < 0.2
    # the prediction stays far inside the jitter (+-1.9 ms here)
    errors.sort()
    assert errors[len(errors) // 2] < 0.0012


def test_follows_a_tempo_step_within_a_beat():
    f = ClockFollower()
    a = ticks(120.0, 24 * 4)
    period = 60.0 / 140 / 24
    b = [a[-1] + (k + 1) * period for k in range(48)]
    for t in a + b[:24]:
        f.tick(t)
    assert f.bpm == pytest.approx(140.0, rel=0.005)
    assert f.steps == 1


def test_a_gap_or_a_burst_starts_over():
    f = ClockFollower()
    for t in ticks(120.0, 48):
        f.tick(t)
    t = f.last_arrival + 1.0
    f.tick(t)  # a second without ticks: re-phased on this tick, the tempo kept as a guess
    assert f.count == 1 and f.predicted == pytest.approx(t + 60.0 / 120 / 24, abs=1e-4)
    for k in range(10):  # a burst: ten ticks in a millisecond
        f.tick(20.0 + k * 1e-4)
    assert f.bpm is None or 20 <= f.bpm <= 400


def feed(player, clock, times, first_message=None):
    for t in times:
        clock.t = t
        player.run_due(t)  # notes due before the tick arrives
        player.clock_message([0xF8], t)
        player.run_due(t)


def follow_player(port, clock):
    player = Player(port, clock)
    player.set_mode("external", clock())
    player.set_pattern(Pattern(events=tuple(Event(s, 5) for s in range(32))))
    return player


def play_ticks(player, clock, times):
    """Deliver ticks at their times and the notes due between them, in time order."""
    for t in times:
        while (due := player.next_due()) is not None and due < t:
            clock.t = due
            player.run_due(due)
        clock.t = t
        player.check_clock(t)
        player.clock_message([0xF8], t)
        player.run_due(t)


def test_player_follows_start_ticks_and_places_notes_between_them(port, fake_clock):
    player = follow_player(port, fake_clock)
    stream = ticks(133.0, 24 * 8, start=200.0)
    play_ticks(player, fake_clock, stream[:10])  # ticks without Start: tempo, no notes
    assert not port.note_ons()
    assert player.follower.period is not None
    fake_clock.t = stream[10] - 0.001
    player.clock_message([0xFA], fake_clock.t)
    play_ticks(player, fake_clock, stream[10:])
    ons = [t for t, _ in port.note_ons()]
    # one 16th every 6 ticks from the tick after Start
    ideal = [200.0 + (10 + 6 * n) * 60.0 / 133 / 24 for n in range(len(ons))]
    late = [abs(a - b) for a, b in zip(ons[8:], ideal[8:], strict=True)]
    assert len(ons) >= 29
    assert max(late) < 0.002
    state = player.state(fake_clock(), "out")
    assert state.clock == "external" and state.playing and state.locked
    assert state.tempo == pytest.approx(133.0, abs=0.2)


def test_stop_spp_continue(port, fake_clock):
    player = follow_player(port, fake_clock)
    stream = ticks(120.0, 24 * 6, start=50.0)
    player.clock_message([0xFA], 49.99)
    play_ticks(player, fake_clock, stream[:48])
    n_before = len(port.note_ons())
    fake_clock.t = stream[48] - 0.005
    player.clock_message([0xFC], fake_clock.t)
    assert [0xB9, 123, 0] in [m for _, m in port.sent]
    play_ticks(player, fake_clock, stream[48:60])  # ticks while stopped: no notes
    assert len(port.note_ons()) == n_before
    player.clock_message([0xF2, 8, 0], fake_clock.t)  # song position: 16th number 8
    player.clock_message([0xFB], fake_clock.t)
    play_ticks(player, fake_clock, stream[60:61])
    assert player.position == 8 * 96 + 1  # step 8 played on the first tick after Continue
    assert port.note_ons()[-1][0] == pytest.approx(stream[60])


def _started(port, clock, bpm=120.0, beats=2):
    player = follow_player(port, clock)
    stream = ticks(bpm, 24 * beats, start=10.0)
    player.clock_message([0xFA], 9.99)
    play_ticks(player, clock, stream)
    player.reports.clear()
    return player, stream


def _problems(player):
    return [r.message for r in player.reports if isinstance(r, ClockProblem)]


def play_until(player, clock, t):
    while (due := player.next_due()) is not None and due <= t:
        clock.t = due
        player.check_clock(due)
        player.run_due(due)
    clock.t = t
    player.check_clock(t)


def test_a_clock_that_stops_dead_is_reported_within_250_ms_and_the_beat_plays_on(
        port, fake_clock):
    player, stream = _started(port, fake_clock)
    sixteenth = 60.0 / 120 / 4
    play_until(player, fake_clock, stream[-1] + 0.19)
    assert not player.clock_lost and not _problems(player)
    play_until(player, fake_clock, stream[-1] + 0.21)
    assert player.clock_lost and player.freewheel
    assert _problems(player) == ["clock input stopped (no tick for 200 ms): playing on at "
                                 "120.0 BPM"]
    state = player.state(fake_clock.t, "out")
    assert state.clock_lost and not state.locked and state.playing
    assert state.clock_problem.startswith("clock input stopped")
    # the 16ths go on at 120 BPM, in phase with the master's grid (tick 0 at 10.0)
    n = len(port.note_ons())
    play_until(player, fake_clock, stream[-1] + 2.0)
    later = [t for t, _ in port.note_ons()[n:]]
    assert len(later) >= 14
    for t in later:
        assert (t - 10.0) / sixteenth == pytest.approx(round((t - 10.0) / sixteenth), abs=0.01)
    # the master comes back where its beat would be: followed again, no jump
    back = ticks(120.0, 24 * 2, start=stream[-1] + 60.0 / 120 / 24 * 160)
    player.reports.clear()
    play_ticks(player, fake_clock, back)
    assert not player.freewheel and _problems(player) == [""]
    tail = [t for t, _ in port.note_ons()[-8:]]
    for t in tail:
        assert (t - 10.0) / sixteenth == pytest.approx(round((t - 10.0) / sixteenth), abs=0.01)


def test_a_clock_at_1000_bpm_is_reported_within_250_ms_and_the_beat_kept(port, fake_clock):
    player, stream = _started(port, fake_clock)
    sixteenth = 60.0 / 120 / 4
    mad = [stream[-1] + (k + 1) * 60.0 / 1000 / 24 for k in range(400)]
    play_ticks(player, fake_clock, mad[:100])  # the first 250 ms of it
    problems = _problems(player)
    assert problems and problems[0].startswith("clock input runs at 1000 BPM, beyond 20..300")
    assert player.bpm == pytest.approx(120.0, abs=0.2)
    play_ticks(player, fake_clock, mad[100:])
    ons = [t for t, _ in port.note_ons()]
    assert all(b - a > 0.5 * sixteenth for a, b in zip(ons, ons[1:], strict=False))
    for t in ons:  # every 16th still on the master's old grid
        assert (t - 10.0) / sixteenth == pytest.approx(round((t - 10.0) / sixteenth), abs=0.05)


def test_garbage_on_the_clock_input_is_reported_and_the_beat_kept(port, fake_clock):
    player, stream = _started(port, fake_clock, beats=3)
    fake_clock.t = stream[-1] + 0.001
    for junk in ([0x45, 0x12], [0xF4], [0xF8, 0x33], [0x90, 60], [0xF2, 0x80, 0]):
        player.clock_message(junk, fake_clock.t)
    assert _problems(player)[0] == "clock input sends garbage (45 12): ignored"
    assert len(set(_problems(player))) == 5 and player.playing and not player.freewheel
    more = ticks(120.0, 24, start=stream[-1] + 60.0 / 120 / 24)
    play_ticks(player, fake_clock, more)
    assert player.state(fake_clock.t, "out").locked
    assert player.bpm == pytest.approx(120.0, abs=0.2)


def test_malformed_and_odd_input_does_not_crash(port, fake_clock):
    player = follow_player(port, fake_clock)
    for msg in ([], [0xF2], [0xF2, 1], [0xFB], [0xFC], [0x90, 200, 300], [0xFE], [0xF8]):
        player.clock_message(msg, 1.0)
    for k in range(200):  # a burst of clock
        player.clock_message([0xF8], 2.0 + k * 1e-5)
    fake_clock.t = 3.0
    player.run_due(3.0)
    state = player.state(3.0, "out")
    # the last transport message was Stop: nothing plays, and the stops silenced the notes
    assert not state.playing and state.step == 0 and player.position == 0
    assert port.note_ons() == []
    assert port.sent and all(msg == [0xB9, 123, 0] for _, msg in port.sent)
    # 200 ticks 10 us apart are no tempo: the estimate stays where it was, in range
    assert 20.0 <= state.tempo <= 400.0 and not state.locked


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=0.2),
            st.one_of(
                st.sampled_from([[0xF8], [0xFA], [0xFB], [0xFC], [0xF2, 5, 1], [0xF2]]),
                st.lists(st.integers(min_value=0, max_value=300), max_size=4),
            ),
        ),
        max_size=300,
    )
)
@settings(max_examples=60, deadline=None)
def test_any_stream_of_messages_leaves_a_sensible_state(stream):
    clock = FakeClock(10.0)
    port = RecordingPort(clock)
    player = Player(port, clock)
    player.set_mode("external", clock())
    player.set_pattern(Pattern(events=tuple(Event(s, 5) for s in range(32))))
    for gap, message in stream:
        clock.t += gap
        player.check_clock(clock.t)
        player.run_due(clock.t)
        player.clock_message(message, clock.t)
    state = player.state(clock.t, "out")
    assert 0 <= state.step < 32 and state.bar >= 0
    assert 20.0 <= state.tempo <= 400.0
    for _, msg in port.sent:
        assert all(0 <= b <= 255 for b in msg)


@pytest.mark.parametrize(("frames", "bpm"), [(1024, 133.0), (1024, 150.0), (2048, 100.0)])
def test_ticks_stamped_with_their_period_still_count_one_each(frames, bpm):
    """A transport that stamps a whole period with one time (rtmidi under JACK)
    delivers two ticks at once now and then: both count, so the tempo holds."""
    period_s = frames / 48000
    f = ClockFollower()
    tick = 60.0 / bpm / 24
    stamped = [((10.0 + k * tick) // period_s) * period_s for k in range(24 * 16)]
    assert len(set(stamped)) < len(stamped)  # some ticks share a period
    for t in stamped:
        f.tick(t)
    assert f.bpm == pytest.approx(bpm, abs=0.2)


def test_clock_info_tells_source_tempo_jitter_lock_and_drift(port, fake_clock):
    player = follow_player(port, fake_clock)
    player.clock_port = "jack_midi_clock:mclk_out"
    rng = random.Random(3)
    period = 60.0 / 133 / 24
    # 70 s of ticks with 0.5 ms of white jitter, the master sliding 0.5 ms a minute
    stream = [200.0 + k * period * (1 + 0.0005 / 60) + rng.gauss(0, 0.0005)
              for k in range(int(70 / period))]
    player.clock_message([0xFA], 199.99)
    play_ticks(player, fake_clock, stream)
    info = player.state(fake_clock.t, "out").clock_info
    assert info.source == "midi" and info.port == "jack_midi_clock:mclk_out"
    assert info.tempo == pytest.approx(133.0 / (1 + 0.0005 / 60), abs=0.05)
    # intervals of white jitter sd r have sd r * sqrt(2)
    assert info.jitter_ms == pytest.approx(0.5 * 2 ** 0.5, rel=0.25)
    assert info.locked and 60 <= info.locked_for_s <= 70
    assert abs(info.offset_ms) < 0.5 and abs(info.drift_ms) < 0.3
    assert info.drift_span_s == 60
    fake_clock.t += 0.5  # the master stops dead: lost, and said at once
    player.check_clock(fake_clock.t)
    info = player.state(fake_clock.t, "out").clock_info
    assert not info.locked and info.locked_for_s == 0
