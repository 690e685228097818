"""Auto levels: the profile table of real beats, its file form, and drawing from it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codec.errors import CodecError
from codec.features import Bins
from codec.levels import GroupLevel, LevelTable, Profile, near_repeat, profile_of
from patterns.pattern import Event, Pattern

BINS = Bins(density=((3, 6),) * 4, intensity=((0.3, 0.6),) * 4)


def groove(toms: bool, repeat: bool) -> Pattern:
    kick = [Event(s, 1) for s in (0, 8, 16, 24)]
    snare = [Event(s, 3) for s in (4, 12, 20)] + [Event(28 if repeat else 30, 3)]
    hats = [Event(s, 5) for s in range(0, 32, 2)]
    tom = [Event(14, 8), Event(15, 9)] if toms else []
    return Pattern(events=(*kick, *snare, *hats, *tom))


def test_a_profile_says_each_group_and_the_loop_form():
    p = profile_of(groove(toms=False, repeat=True), BINS)
    assert p.groups[0] == GroupLevel("high", "low")  # 8 drum hits, all on the beat
    assert p.groups[1] == GroupLevel("high", "mid")  # 16 hats, half off the beat
    assert p.groups[2].empty and p.groups[3].empty
    assert p.repeat and near_repeat(groove(False, True))
    assert Profile.from_code(p.code()) == p


@given(st.lists(st.tuples(st.sampled_from(["funk", "rock"]), st.sampled_from(["beat", "fill"]),
                          st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_the_table_round_trips_through_its_json(rows):
    table = LevelTable.from_windows(((g, k, groove(t, r)) for g, k, t, r in rows), BINS)
    again = LevelTable.from_json(table.to_json())
    assert again.to_json() == table.to_json()
    assert again.keys() == sorted({(g, k) for g, k, _t, _r in rows})


def test_draws_follow_the_counts_and_the_evidence():
    windows = [("rock", "beat", groove(toms=False, repeat=True))] * 70
    windows += [("rock", "beat", groove(toms=True, repeat=False))] * 30
    table = LevelTable.from_windows(windows, BINS)
    rng = np.random.default_rng(0)
    draws = [table.draw("rock", "beat", rng) for _ in range(2000)]
    share = sum(d.groups[2].empty for d in draws) / len(draws)
    assert 0.65 < share < 0.75  # toms in 3 beats of 10, as in the data
    # a group the user asked for is never drawn empty
    assert not any(table.draw("rock", "beat", rng, exclude_empty=(3,)).groups[2].empty
                   for _ in range(200))
    # evidence: a pattern whose toms are there draws the profiles that have them
    toms = GroupLevel("low", "high")
    with_toms = [table.draw("rock", "beat", rng, {3: toms}) for _ in range(500)]
    assert sum(not d.groups[2].empty for d in with_toms) / 500 > 0.97  # 30 / (30 + 70 / 1000)
    # an unknown genre falls back to the type's profiles over all genres
    assert table.draw("jazz", "beat", rng).groups[0].density == "high"


@pytest.mark.parametrize("text, message", [
    ("not json", "malformed"),
    ('{"version": 9, "profiles": {}}', "version 9"),
    ('{"version": 1, "profiles": {"rock": {"beat": {"zz": 3}}}}', "malformed"),
])
def test_a_bad_table_is_one_clear_error(text, message):
    with pytest.raises(CodecError, match=message):
        LevelTable.from_json(text)
