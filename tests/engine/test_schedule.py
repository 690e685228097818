from __future__ import annotations

from engine.schedule import LOOP_TICKS, compile_pattern
from patterns.kit import KitMap
from patterns.pattern import Event, Pattern

GM = KitMap.general_midi()


def test_offsets_swing_and_kit_are_applied():
    pattern = Pattern(
        events=(Event(0, 1, 0, 100), Event(1, 5, 10, 90), Event(4, 3, -5, 80)), swing=62.5
    )
    sched = compile_pattern(pattern, GM)
    assert [(h.tick, h.track, h.note, h.channel, h.velocity) for h in sched.hits] == [
        (0, 1, 36, 9, 100),
        (96 + 10 + 24, 5, 42, 9, 90),  # swing 62.5 %: the odd 16th moves 24 ticks
        (4 * 96 - 5, 3, 38, 9, 80),
    ]


def test_swing_argument_overrides_the_patterns():
    pattern = Pattern(events=(Event(3, 5),), swing=75.0)
    assert compile_pattern(pattern, GM, swing=50.0).hits[0].tick == 3 * 96
    assert compile_pattern(pattern, GM).hits[0].tick == 3 * 96 + 48


def test_an_early_hit_on_step_0_wraps_to_the_end_of_the_loop():
    sched = compile_pattern(Pattern(events=(Event(0, 1, -10),)), GM)
    assert sched.hits[0].tick == LOOP_TICKS - 10
    assert sched.next_tick(0) == LOOP_TICKS - 10
    assert sched.next_tick(LOOP_TICKS - 9) == 2 * LOOP_TICKS - 10


def test_kit_channel_and_note():
    kit = KitMap.from_dict({"channel": 2, "tracks": {"kick": {"note": 60, "channel": 11}}})
    hit = compile_pattern(Pattern(events=(Event(0, 1), Event(0, 3))), kit).hits
    assert (hit[0].note, hit[0].channel) == (60, 10)
    assert (hit[1].note, hit[1].channel) == (38, 1)


def test_next_tick_and_hits_at_over_loops():
    sched = compile_pattern(Pattern(events=(Event(0, 1), Event(0, 5), Event(8, 3))), GM)
    assert sched.next_tick(1) == 8 * 96
    assert sched.next_tick(8 * 96 + 1) == LOOP_TICKS
    assert [h.track for h in sched.hits_at(5 * LOOP_TICKS)] == [1, 5]
    assert compile_pattern(Pattern(), GM).next_tick(0) is None
