from __future__ import annotations

import dataclasses

import pytest

from patterns import GROUPS, TRACKS, Event, GroupParams, Pattern, PatternError, group_of
from patterns.grid import swing_ticks, track_by_name
from patterns.pattern import AUTO_LEVELS


def test_tracks_and_groups_follow_the_product_table():
    assert [t.gm_note for t in TRACKS] == [36, 37, 38, 39, 42, 44, 46, 45, 47, 50, 49, 51]
    assert [g.name for g in GROUPS] == ["drums", "hats", "toms", "cymbals"]
    assert [g.tracks for g in GROUPS] == [(1, 2, 3, 4), (5, 6, 7), (8, 9, 10), (11, 12)]
    assert [group_of(t) for t in range(1, 13)] == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step": 32, "track": 1}, "step must be in 0..31, got 32"),
        ({"step": 0, "track": 13}, "track must be in 1..12, got 13"),
        ({"step": 0, "track": 1, "offset": 48}, "offset must be in -48..47, got 48"),
        ({"step": 0, "track": 1, "velocity": 0}, "velocity must be in 1..127, got 0"),
        ({"step": 0, "track": 1, "velocity": 1.5}, "velocity must be an integer"),
    ],
)
def test_event_validation_names_the_range(kwargs, message):
    with pytest.raises(PatternError, match=message):
        Event(**kwargs)


def test_group_params_validation():
    with pytest.raises(PatternError, match="density must be one of low, mid, high, got 'max'"):
        GroupParams(density="max")
    with pytest.raises(PatternError, match="type must be one of beat, fill"):
        GroupParams(type="intro")
    with pytest.raises(PatternError, match="genre must be one word"):
        GroupParams(genre="hip hop")


def test_pattern_is_immutable_and_sorted():
    p = Pattern(events=(Event(4, 3), Event(0, 5), Event(0, 1)))
    assert [(e.step, e.track) for e in p.events] == [(0, 1), (0, 5), (4, 3)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.tempo = 100  # type: ignore[misc]


def test_pattern_rejects_two_events_on_a_cell_and_bad_tempo():
    with pytest.raises(PatternError, match="two events on step 0 of track 1"):
        Pattern(events=(Event(0, 1), Event(0, 1, velocity=20)))
    with pytest.raises(PatternError, match="tempo must be in 20..300 BPM, got 400"):
        Pattern(tempo=400)
    with pytest.raises(PatternError, match="swing must be in 50..75"):
        Pattern(swing=80)


def test_editing_returns_new_patterns():
    p = Pattern()
    q = p.with_event(Event(0, 1, velocity=100))
    r = q.with_event(Event(0, 1, velocity=50))
    assert p.events == ()
    assert q.at(0, 1).velocity == 100
    assert r.at(0, 1).velocity == 50 and len(r.events) == 1
    assert r.without_event(0, 1).events == ()


def test_with_group_replaces_only_that_group():
    p = Pattern(events=(Event(0, 1), Event(2, 5), Event(4, 9)))
    params = GroupParams(genre="funk", density="high")
    q = p.with_group(2, [Event(1, 6), Event(3, 7)], params)
    assert [(e.step, e.track) for e in q.group_events(2)] == [(1, 6), (3, 7)]
    assert q.group_events(1) == p.group_events(1)
    assert q.group_events(3) == p.group_events(3)
    assert q.group_params(2) == params and q.group_params(1) == p.group_params(1)
    # a new pattern's levels are auto: drawn as drummers play the genre
    assert p.group_params(1).auto == AUTO_LEVELS
    with pytest.raises(PatternError, match="track 1 is not in group 2"):
        p.with_group(2, [Event(0, 1)])


def test_track_names():
    assert track_by_name("kick") == 1
    assert track_by_name("OHH") == 7
    assert track_by_name("12") == 12
    with pytest.raises(ValueError, match="unknown track 'cowbell'"):
        track_by_name("cowbell")


def test_swing_delays_only_odd_steps():
    assert swing_ticks(0, 66) == 0
    assert swing_ticks(1, 50) == 0
    assert swing_ticks(1, 75) == 48
    assert swing_ticks(3, 62.5) == 24


def test_levels_pin_or_go_auto_and_say_which():
    p = GroupParams(genre="funk")
    assert p.auto == frozenset() and p.level("density") == "mid"
    auto = p.with_level("density", "auto")
    assert auto.auto == {"density"} and auto.level("density") == "auto:mid"
    assert auto.level("density", "·") == "auto·mid" and auto.level("intensity") == "mid"
    pinned = auto.with_level("density", "high")
    assert pinned.auto == frozenset() and pinned.level("density") == "high"
    with pytest.raises(PatternError, match="density must be one of auto, low, mid, high"):
        p.with_level("density", "loud")
    with pytest.raises(PatternError, match="auto must name density and/or intensity"):
        GroupParams(auto=frozenset({"genre"}))
