"""The player driven by a fake clock into a recording port: exact times, no waiting."""

from __future__ import annotations

import pytest

from engine.messages import PatternSwapped
from engine.player import START_LEAD, Player
from engine.schedule import CLOCK_TICKS, GATE, LOOP_TICKS
from patterns.pattern import Event, Pattern

BPM = 174.0
TICK = 60.0 / (BPM * 384)  # seconds a grid tick
STEP = 96 * TICK


def run_until(player: Player, clock, end: float) -> None:
    """Jump the clock from due time to due time, as the engine loop does."""
    while True:
        due = player.next_due()
        if due is None or due > end:
            clock.t = end
            return
        clock.t = due
        player.run_due(due)


def make(port, clock, **kwargs) -> Player:
    player = Player(port, clock, **kwargs)
    player.set_tempo(BPM, clock())
    return player


def on_times(port, note=None):
    return [t for t, msg in port.note_ons() if note is None or msg[1] == note]


def test_every_16th_lands_on_t0_plus_n_intervals_after_many_loops(port, fake_clock):
    player = make(port, fake_clock, record=True)
    player.set_pattern(Pattern(events=tuple(Event(s, 5) for s in range(32))))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 200 * 32 * STEP - STEP / 2)  # 200 loops, 6400 notes
    times = on_times(port)
    assert len(times) == 6400
    for n in (0, 1, 31, 32, 3199, 6399):
        assert times[n] == pytest.approx(t0 + n * STEP, abs=1e-9)
    assert player.late_events == 0


def test_offsets_swing_and_gate(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=(Event(0, 1, 0, 110), Event(1, 5, 12, 70)), swing=66.0))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 4 * STEP)
    sent = port.sent
    ons = port.note_ons()
    assert ons[0] == (pytest.approx(t0), [0x99, 36, 110])
    swing = round((2 * 0.66 - 1) * 96)
    assert ons[1] == (pytest.approx(t0 + (96 + 12 + swing) * TICK), [0x99, 42, 70])
    offs = [(t, msg) for t, msg in sent if msg[0] == 0x89]
    assert offs[0] == (pytest.approx(t0 + 48 * TICK), [0x89, 36, 0])  # gate: half a step


def test_mute_and_solo(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=(Event(0, 1), Event(0, 3), Event(0, 5))))
    player.set_mute(3, True)
    player.transport("start", fake_clock())
    run_until(player, fake_clock, fake_clock() + STEP)
    assert sorted(msg[1] for _, msg in port.note_ons()) == [36, 42]
    player.set_solo(5, True)
    run_until(player, fake_clock, fake_clock() + 32 * STEP)
    assert [msg[1] for _, msg in port.note_ons()][2:] == [42]
    with pytest.raises(ValueError, match="track must be in 1..12, got 13"):
        player.set_mute(13, True)


def test_a_new_pattern_waits_for_the_bar_line(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=tuple(Event(s, 1) for s in range(0, 32, 4))))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 5 * STEP)
    player.set_pattern(Pattern(events=tuple(Event(s, 3) for s in range(0, 32, 4))))
    assert player.pending is not None
    run_until(player, fake_clock, t0 + 20 * STEP)
    notes = [(round((t - t0) / STEP), msg[1]) for t, msg in port.note_ons()]
    assert notes == [(0, 36), (4, 36), (8, 36), (12, 36), (16, 38), (20, 38)]
    assert player.reports == [PatternSwapped(bar=1)]
    assert player.pending is None


def test_swap_group_keeps_the_other_groups_and_at_now_is_immediate(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=(Event(0, 1), Event(2, 5), Event(6, 5))))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 1.5 * STEP)
    player.swap_group(2, (Event(6, 7),), at="now")
    run_until(player, fake_clock, t0 + 7.5 * STEP)
    notes = [(round((t - t0) / STEP), msg[1]) for t, msg in port.note_ons()]
    assert notes == [(0, 36), (6, 46)]
    assert [e.track for e in player.pattern.events] == [1, 7]


def test_tempo_change_keeps_the_phase(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=tuple(Event(s, 5) for s in range(32))))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 4.5 * STEP)  # halfway between steps 4 and 5
    player.set_tempo(BPM / 2, fake_clock())
    run_until(player, fake_clock, t0 + 10 * STEP)
    times = on_times(port)
    # step 5 comes half a (new, twice as long) step after the change: no jump
    assert times[5] == pytest.approx(t0 + 4.5 * STEP + STEP, abs=1e-9)
    assert times[6] == pytest.approx(times[5] + 2 * STEP, abs=1e-9)


def test_stop_sends_notes_off_and_continue_resumes_on_the_next_16th(port, fake_clock):
    player = make(port, fake_clock, send_clock=True)
    player.set_pattern(Pattern(events=tuple(Event(s, 5) for s in range(32))))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 2.2 * STEP)
    port.sent.clear()
    player.transport("stop", fake_clock())
    msgs = [msg for _, msg in port.sent]
    assert [0x89, 42, 0] in msgs  # the ringing hat ends
    assert [0xB9, 123, 0] in msgs  # All Notes Off on channel 10
    assert msgs[-1] == [0xFC]
    run_until(player, fake_clock, fake_clock() + 1.0)
    assert not port.note_ons()
    port.sent.clear()
    player.transport("continue", fake_clock())
    assert [msg for _, msg in port.sent][:2] == [[0xF2, 3, 0], [0xFB]]  # SPP: 16th number 3
    t1 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t1 + 0.5 * STEP)
    assert port.note_ons()[0] == (pytest.approx(t1), [0x99, 42, 100])


def test_clock_master_sends_24_ticks_a_quarter_on_the_same_schedule(port, fake_clock):
    player = make(port, fake_clock, send_clock=True)
    player.set_pattern(Pattern(events=(Event(0, 1), Event(4, 1))))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    assert port.sent[0][1] == [0xFA]
    run_until(player, fake_clock, t0 + 8 * STEP - TICK)
    ticks = [t for t, msg in port.sent if msg == [0xF8]]
    assert len(ticks) == 48  # two beats
    period = 60.0 / BPM / 24
    for n, t in enumerate(ticks):
        assert t == pytest.approx(t0 + n * period, abs=1e-9)
    kick = on_times(port, 36)
    assert kick[1] == pytest.approx(ticks[24], abs=1e-9)  # step 4 on the beat's clock


def test_under_link_the_player_is_the_clock_master_on_the_sessions_timeline(port, fake_clock):
    """A Link-to-MIDI-clock bridge: START, then 24 ticks a beat on the session's beats
    (bar 1 on the session's bar, its tempo as Link gives it), STOP when it stops."""
    player = make(port, fake_clock, send_clock=True)
    player.set_pattern(Pattern(events=(Event(0, 1), Event(4, 1))))
    player.set_mode("link", fake_clock())
    t = fake_clock()
    player.follow_timeline(t, 6.5, 128.0)  # the session is at beat 6.5 now
    player.start_at_beat(8.0)  # its next bar
    assert port.sent[-1][1] == [0xFA]
    beat = 60.0 / 128.0
    t_bar = t + 1.5 * beat
    run_until(player, fake_clock, t_bar + 2 * beat - 1e-6)
    ticks = [when for when, msg in port.sent if msg == [0xF8]]
    assert len(ticks) == 48
    for n, when in enumerate(ticks):
        assert when == pytest.approx(t_bar + n * beat / 24, abs=1e-9)
    assert on_times(port, 36)[0] == pytest.approx(t_bar, abs=1e-9)
    player.stop(fake_clock())
    assert port.sent[-1][1] == [0xFC]


def test_clock_out_switched_on_while_playing_tells_the_gear_where_the_song_is(port, fake_clock):
    """`:clock master` (or `link master`) mid-song: Song Position and Continue on the next
    16th, then the clock from there; switched off: Stop."""
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=(Event(0, 1),)))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 5.5 * STEP)  # into the 6th 16th
    assert not [msg for _, msg in port.sent if msg[0] >= 0xF0]
    player.set_send_clock(True, fake_clock())
    run_until(player, fake_clock, t0 + 8 * STEP - TICK)
    system = [(t, msg) for t, msg in port.sent if msg[0] >= 0xF0]
    assert [msg for _, msg in system[:3]] == [[0xF2, 6, 0], [0xFB], [0xF8]]  # 16th 6
    assert system[2][0] == pytest.approx(t0 + 6 * STEP, abs=1e-9)
    assert len([m for _, m in system if m == [0xF8]]) == 12  # 16ths 6 and 7
    player.set_send_clock(False, fake_clock())
    assert port.sent[-1][1] == [0xFC]


def test_following_an_external_clock_the_player_sends_none(port, fake_clock):
    player = make(port, fake_clock, send_clock=True)
    player.set_mode("external", fake_clock())
    player.transport("start", fake_clock())
    assert not player.sends_clock
    assert not [msg for _, msg in port.sent if msg[0] in (0xF8, 0xFA, 0xFC)]


def test_retrigger_ends_the_ringing_note_first(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=(Event(0, 5, 0), Event(1, 5, -48))))
    player.transport("start", fake_clock())
    run_until(player, fake_clock, fake_clock() + 2 * STEP)
    msgs = [msg for _, msg in port.sent if msg[1] == 42]
    assert msgs[:3] == [[0x99, 42, 100], [0x89, 42, 0], [0x99, 42, 100]]


def test_within_a_tick_the_clock_goes_first_then_note_ons_then_note_offs(port, fake_clock):
    # an early kick on step 1 (tick 80) ends, a gate later, on tick 128: a clock tick,
    # where a late hat of step 1 starts
    assert 96 - 16 + GATE == 128 and 128 % CLOCK_TICKS == 0
    player = make(port, fake_clock, send_clock=True)
    player.set_pattern(Pattern(events=(Event(1, 1, -16), Event(1, 5, 128 - 96))))
    player.transport("start", fake_clock())
    run_until(player, fake_clock, fake_clock() + 8 * STEP)
    by_time: dict[float, list[list[int]]] = {}
    for t, msg in port.sent:
        by_time.setdefault(round(t, 9), []).append(msg)
    kinds = {"clock": 0, "on": 1, "off": 2}

    def kind(msg):
        return "clock" if msg == [0xF8] else "on" if msg[0] & 0xF0 == 0x90 else "off"

    mixed = [[kind(msg) for msg in msgs] for msgs in by_time.values()
             if {kind(msg) for msg in msgs if msg != [0xFA]} == {"clock", "on", "off"}]
    assert mixed, "no tick with a clock, a note-on and a note-off"
    for order in mixed:
        assert order == sorted(order, key=kinds.__getitem__)


def test_timing_records_when_the_loop_got_to_each_action(port, fake_clock):
    player = make(port, fake_clock, record=True, send_clock=True)
    player.set_pattern(Pattern(events=(Event(0, 1), Event(4, 1))))
    player.transport("start", fake_clock())
    t0 = player.anchor_time
    player.arrived_at = t0 - 0.0005  # on time: half a millisecond early
    fake_clock.t = t0
    player.run_due(t0)
    player.arrived_at = t0 + 4 * STEP + 0.002  # the OS woke the loop 2 ms late
    fake_clock.t = t0 + 4 * STEP + 0.002
    player.run_due(fake_clock())
    timing = player.timing
    assert list(timing.note_arrival) == [0.0, pytest.approx(0.002)]
    assert timing.clock_arrival[0] == 0.0
    assert timing.clock_arrival[-1] == pytest.approx(0.002)
    assert timing.lateness[1] == pytest.approx(0.002)


def test_lateness_is_counted(port, fake_clock):
    player = make(port, fake_clock, record=True)
    player.set_pattern(Pattern(events=(Event(0, 1),)))
    player.transport("start", fake_clock())
    fake_clock.t += 0.5  # the engine woke 500 ms late
    player.run_due(fake_clock())
    assert player.late_events == 1
    assert player.timing.lateness[0] == pytest.approx(0.5 - START_LEAD)


def test_latency_offset_sends_earlier(port, fake_clock):
    player = make(port, fake_clock, latency_ms=10.0)
    player.set_pattern(Pattern(events=(Event(0, 1), Event(4, 1))))
    player.transport("start", fake_clock())
    t0 = player.anchor_time
    run_until(player, fake_clock, t0 + 5 * STEP)
    times = on_times(port)
    assert times[0] == pytest.approx(t0 - 0.010)
    assert times[1] == pytest.approx(t0 + 4 * STEP - 0.010)


def test_a_negative_latency_sends_later_and_beyond_100_ms_is_refused(port, fake_clock):
    player = make(port, fake_clock)
    player.set_latency(-20.0)
    player.set_pattern(Pattern(events=(Event(4, 1),)))
    player.transport("start", fake_clock())
    t0 = player.anchor_time
    run_until(player, fake_clock, t0 + 6 * STEP)
    assert on_times(port) == [pytest.approx(t0 + 4 * STEP + 0.020)]
    with pytest.raises(ValueError, match=r"latency must be in -100\.\.100 ms, got 100.5"):
        player.set_latency(100.5)
    assert player.latency == pytest.approx(-0.020)


def test_bad_values_raise_precise_errors(port, fake_clock):
    player = make(port, fake_clock)
    with pytest.raises(ValueError, match="tempo must be in 20..300 BPM, got 400"):
        player.set_tempo(400, 0.0)
    with pytest.raises(ValueError, match="swing must be in 50..75 %, got 80"):
        player.set_swing(80)
    with pytest.raises(ValueError, match="transport action"):
        player.transport("rewind", 0.0)


def test_state_reports_step_and_bar(port, fake_clock):
    player = make(port, fake_clock)
    player.set_pattern(Pattern(events=(Event(0, 1),)))
    player.transport("start", fake_clock())
    t0 = fake_clock() + START_LEAD
    run_until(player, fake_clock, t0 + 21.5 * STEP)
    state = player.state(fake_clock(), "out")
    assert (state.playing, state.step, state.bar, state.tempo) == (True, 21, 1, BPM)
    run_until(player, fake_clock, t0 + LOOP_TICKS * TICK * 3 + 2.5 * STEP)
    state = player.state(fake_clock(), "out")
    assert (state.step, state.bar) == (2, 6)
