"""Conditional trigs and one-bar alternatives (fills) in the player: fake clock, recording port."""

from __future__ import annotations

import pytest
from engine_fakes import FakeClock, RecordingPort
from test_player import BPM, STEP, make, run_until

from engine.player import START_LEAD
from patterns.conditions import TrigState, parse_condition, played_out
from patterns.pattern import Event, Pattern

KICK, SNARE, CHH, CRASH = 36, 38, 42, 49
LOOP = 32 * STEP
BAR = 16 * STEP


def loops_played(port, note, t0, loops, step=0):
    """For each loop, whether `note` sounded on `step` of it."""
    times = [t for t, msg in port.note_ons() if msg[1] == note]
    return [any(abs(t - (t0 + n * LOOP + step * STEP)) < 1e-6 for t in times)
            for n in range(loops)]


def play(pattern, loops, seed=0, before=None):
    clock = FakeClock()
    port = RecordingPort(clock)
    player = make(port, clock)
    player.trigs.seed = seed
    player.set_pattern(pattern)
    if before is not None:
        before(player)
    player.transport("start", clock())
    t0 = clock() + START_LEAD
    run_until(player, clock, t0 + loops * LOOP - STEP / 2)
    return port, t0, player


@pytest.mark.parametrize("a,b", [(1, 2), (2, 2), (1, 4), (4, 4), (3, 7), (8, 8)])
def test_a_b_plays_on_the_a_th_of_every_b_loops_exactly(a, b):
    pattern = Pattern((Event(4, 1),)).with_condition(4, 1, parse_condition(f"{a}:{b}"))
    port, t0, _ = play(pattern, 64)
    assert loops_played(port, KICK, t0, 64, 4) == [n % b == a - 1 for n in range(64)]


def test_probability_is_within_3_points_over_10000_trigs():
    # every step of the kick at 40 %: 313 loops of 32 = 10,016 trigs
    events = tuple(Event(s, 1) for s in range(32))
    cond = parse_condition("40%")
    pattern = Pattern(events, conditions=tuple(((s, 1), cond) for s in range(32)))
    port, t0, _ = play(pattern, 313)
    played = len([1 for _, msg in port.note_ons() if msg[1] == KICK])
    assert abs(played / (313 * 32) - 0.40) <= 0.03
    assert 0 < played < 313 * 32


def test_same_seed_same_playback_other_seed_other_playback():
    events = (Event(0, 1), Event(2, 5), Event(4, 3), Event(6, 5), Event(8, 1))
    conds = (((0, 1), parse_condition("50%")), ((2, 5), parse_condition("30%")),
             ((4, 3), parse_condition("PRE")), ((6, 5), parse_condition("!PRE")),
             ((8, 1), parse_condition("1:3")))
    pattern = Pattern(events, conditions=conds)
    a = [m for _, m in play(pattern, 20, seed=7)[0].sent]
    b = [m for _, m in play(pattern, 20, seed=7)[0].sent]
    c = [m for _, m in play(pattern, 20, seed=8)[0].sent]
    assert a == b
    assert a != c


def test_the_player_plays_what_played_out_exports():
    events = tuple(Event(s, t) for s in range(0, 32, 2) for t in (1, 5))
    conds = tuple(((s, 5), parse_condition("60%")) for s in range(0, 32, 4)) + (
        ((2, 1), parse_condition("PRE")), ((6, 1), parse_condition("!PRE")),
        ((10, 1), parse_condition("2:4")))
    pattern = Pattern(events, conditions=conds)
    port, t0, _ = play(pattern, 12, seed=3)
    exported = played_out(pattern, 12, seed=3)
    for n, loop in enumerate(exported):
        for s in range(0, 32, 2):
            for track, note in ((1, KICK), (5, CHH)):
                sounded = any(abs(t - (t0 + n * LOOP + s * STEP)) < 1e-6
                              for t, msg in port.note_ons() if msg[1] == note)
                assert sounded == (loop.at(s, track) is not None), (n, s, track)


def test_pre_follows_the_previous_conditional_trig_of_the_track():
    state = TrigState(0)
    first = parse_condition("1:2")
    pre, not_pre = parse_condition("PRE"), parse_condition("!PRE")
    assert state.plays(first, 3, 0) is True  # loop 0
    assert state.plays(pre, 3, 4) is True and state.plays(not_pre, 3, 5) is False
    assert state.plays(first, 3, 32) is False  # loop 1
    assert state.plays(pre, 3, 36) is False and state.plays(not_pre, 3, 37) is True
    assert state.plays(pre, 1, 38) is False  # another track: nothing before it


def test_fill_and_not_fill_follow_the_fill_bar():
    groove = Pattern((Event(0, 1), Event(12, 3), Event(16, 1), Event(28, 3), Event(30, 3)),
                     conditions=(((12, 3), parse_condition("FILL")),
                                 ((28, 3), parse_condition("!FILL")),
                                 ((30, 3), parse_condition("FILL"))))
    fill = Pattern((Event(16, 9), Event(20, 9), Event(24, 8)))  # toms in bar 2

    def arm(player):
        player.play_once(fill, 1, fill=True, crash=False, at_bar=3)

    port, t0, _ = play(groove, 3, before=arm)
    snare_steps = sorted(round((t - t0) / STEP) for t, m in port.note_ons() if m[1] == SNARE)
    # the fill is in song bar 3 (loop 1, bar 2). FILL snares (steps 13 and 31 of each
    # loop) play only there: step 31 of loop 1 (song step 62), played through the fill;
    # the !FILL snare on step 29 plays outside it (loops 0 and 2), not in it
    assert snare_steps == [28, 62, 92]
    mtom = sorted(round((t - t0) / STEP) for t, m in port.note_ons() if m[1] == 47)
    assert mtom == [48, 52]


def test_a_fill_plays_once_in_the_next_bar_then_the_groove_with_a_crash():
    clock = FakeClock()
    port = RecordingPort(clock)
    player = make(port, clock)
    groove = Pattern(tuple(Event(s, 5) for s in range(0, 32, 2)) + (Event(0, 1), Event(16, 1)))
    fill = groove.with_events([Event(s, 3) for s in range(16, 32)])  # snare roll in bar 2
    player.set_pattern(groove)
    player.transport("start", clock())
    t0 = clock() + START_LEAD
    run_until(player, clock, t0 + 5 * STEP)  # in song bar 0
    player.play_once(fill, 1, fill=True, crash=True)  # arms for the next bar: song bar 1
    state = player.state(clock(), "x")
    assert (state.fill, state.fill_bar) == ("waiting", 1)
    run_until(player, clock, t0 + BAR + STEP)
    assert player.state(clock(), "x").fill == "playing"
    run_until(player, clock, t0 + 3 * LOOP - STEP / 2)
    assert player.state(clock(), "x").fill == ""
    steps = {n: sorted(round((t - t0) / STEP) for t, m in port.note_ons() if m[1] == n)
             for n in (KICK, SNARE, CHH, CRASH)}
    # the fill's bar (song steps 16..31) of bar 1: snares, none of the groove's hats or kick
    assert steps[SNARE] == list(range(16, 32))
    assert [s for s in steps[CHH] if 16 <= s < 32] == []
    assert steps[CHH] == [*range(0, 16, 2), *range(32, 96, 2)]
    assert steps[KICK] == [0, 32, 48, 64, 80]
    assert steps[CRASH] == [32]  # the groove comes back with a crash on its 1, once


def test_a_fill_written_for_bar_2_plays_in_whichever_bar_comes_next():
    groove = Pattern((Event(0, 1), Event(16, 1)))
    fill = Pattern((Event(16, 3), Event(31, 3, -40)))  # bar 2: steps 1 and 16 (early)
    port, t0, _ = play(groove, 3, before=lambda p: p.play_once(fill, 1, True, False, at_bar=2))
    snare = sorted(round((t - t0) / (STEP / 96)) for t, m in port.note_ons() if m[1] == SNARE)
    assert snare == [2 * 16 * 96, (2 * 16 + 15) * 96 - 40]  # placed in song bar 2 (loop 1)
    kick = sorted(round((t - t0) / STEP) for t, m in port.note_ons() if m[1] == KICK)
    assert kick == [0, 16, 48, 64, 80]  # song bar 2's kick gave way to the fill


def test_a_fill_that_arrives_late_waits_for_the_next_bar():
    clock = FakeClock()
    port = RecordingPort(clock)
    player = make(port, clock)
    player.set_pattern(Pattern((Event(0, 1),)))
    player.transport("start", clock())
    t0 = clock() + START_LEAD
    run_until(player, clock, t0 + BAR + STEP)  # bar 1 has begun
    player.play_once(Pattern((Event(0, 3),)), 0, True, False, at_bar=1)
    assert player.state(clock(), "x").fill_bar == 2
    run_until(player, clock, t0 + 3 * LOOP - STEP / 2)
    snare = sorted(round((t - t0) / STEP) for t, m in port.note_ons() if m[1] == SNARE)
    assert snare == [32]


def test_cancel_forgets_fills_not_begun_and_stop_clears_them():
    port, t0, player = play(Pattern((Event(0, 1),)), 1,
                            before=lambda p: p.play_once(Pattern((Event(0, 3),)), 0, at_bar=4))
    assert player.state(player.clock(), "x").fill == "waiting"
    player.cancel_once()
    assert player.state(player.clock(), "x").fill == ""
    player.play_once(Pattern((Event(0, 3),)), 0, at_bar=4)
    player.transport("stop", player.clock())
    assert player.playing_out.once == []
    assert BPM == 174.0
