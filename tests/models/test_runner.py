"""The llama.cpp runner: grammar-constrained generation, determinism, mutate, context."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codec.tokens import decode, header_tokens
from models.runner import BeatModel, DecodeProfile, ModelError, anchor_weight, density_range
from patterns.grid import GROUPS
from patterns.pattern import Event, GroupParams, Pattern

ROCK = GroupParams(genre="rock", type="beat", density="mid", intensity="mid")


def context_beat() -> Pattern:
    events = [Event(s, 1, 0, 110) for s in (0, 8, 16, 24)]
    events += [Event(s, 3, 2, 100) for s in (4, 12, 20, 28)]
    events += [Event(0, 11, 0, 120), Event(16, 12, 0, 80)]
    return Pattern(events=tuple(events))


def test_metadata_of_the_loaded_model(model):
    assert model.genres == ("jazz", "rock")
    assert model.name == "tiny.gguf"
    assert model.bins.density[0][0] > 0
    assert model.metadata["autobeat.grid.steps"] == 32
    assert "CC BY 4.0" in model.metadata["autobeat.data"]


def test_every_sample_at_a_high_temperature_decodes_inside_its_group(model):
    for i in range(120):
        group = i % 4 + 1
        params = GroupParams(genre=("rock", "jazz")[i % 2], density=("low", "mid", "high")[i % 3])
        model.profile = DecodeProfile()
        out = model.generate_group(context_beat(), group, params, seed=i, temperature=2.5,
                                   top_p=1.0)
        written = [model.vocab.token(t) for t in model.profile.written[-1]]
        decoded = decode(header_tokens(params, group) + written, strict=True)
        assert decoded.events == out.group_events(group)
        assert all(e.group == group for e in decoded.events)
        lo, hi = density_range(model.bins, group, params.density)
        assert lo <= len(decoded.events) <= (hi if hi is not None else 128)
        # the other groups are untouched, the params stamped
        assert [e for e in out.events if e.group != group] == [
            e for e in context_beat().events if e.group != group
        ]
        assert out.group_params(group).seed == i
        assert out.group_params(group).model == "tiny.gguf"


def test_same_seed_same_pattern_other_seed_other_pattern(model):
    a = model.generate_group(context_beat(), 1, ROCK, seed=7)
    b = model.generate_group(context_beat(), 1, ROCK, seed=7)
    assert a == b
    others = {model.generate_group(context_beat(), 1, ROCK, seed=s).group_events(1)
              for s in range(8, 14)}
    assert len(others) > 1
    beat1 = model.generate_all(Pattern(), [ROCK] * 4, seed=3)
    beat2 = model.generate_all(Pattern(), [ROCK] * 4, seed=3)
    assert beat1 == beat2


def test_generate_all_writes_four_groups_with_their_params(model):
    params = [GroupParams(genre="jazz", density="high"), ROCK,
              GroupParams(genre="rock", density="low"), GroupParams(genre="jazz", type="fill")]
    start = Pattern(events=(Event(0, 5),), tempo=97.0, name="x")
    beat = model.generate_all(start, params, seed=11)
    assert beat.tempo == 97.0 and beat.name == "x"
    for g in GROUPS:
        p = beat.group_params(g.number)
        assert (p.genre, p.density, p.type) == (params[g.number - 1].genre,
                                                params[g.number - 1].density,
                                                params[g.number - 1].type)
        assert p.seed == 11
        lo, hi = density_range(model.bins, g.number, p.density)
        assert lo <= len(beat.group_events(g.number)) <= (hi or 128)
        assert p.auto == frozenset()  # pinned levels stay exactly as asked


def test_a_new_beat_is_written_group_by_group_each_hearing_those_before(model):
    model.levels = None  # pinned levels, no loop form: the plain decoding order shows
    beat = model.generate_all(Pattern(), [ROCK] * 4, seed=5)
    grown = Pattern()
    for g in GROUPS:  # drums, then hats over the drums, toms over both, cymbals over all
        grown = model.generate_group(grown, g.number, ROCK, seed=5)
        assert grown.group_events(g.number) == beat.group_events(g.number)
    # hats written with no drums to hear differ from the hats of new beats
    hats = [model.generate_group(Pattern(), 2, ROCK, seed=s).group_events(2) for s in range(6)]
    heard = [model.generate_all(Pattern(), [ROCK] * 4, seed=s).group_events(2) for s in range(6)]
    assert hats != heard


def test_auto_levels_are_drawn_from_the_table_and_said(model):
    auto = Pattern().params  # a new pattern: density and intensity auto
    assert all(p.auto == {"density", "intensity"} for p in auto)
    drawn = set()
    for seed in range(12):
        beat = model.generate_all(Pattern(), [replace(p, genre="rock") for p in auto], seed)
        for g in GROUPS:
            p = beat.group_params(g.number)
            assert p.auto == {"density", "intensity"}  # still auto for the next press
            n = len(beat.group_events(g.number))
            if n:  # the events fit the level the header says
                assert model.bins.density_level(beat.group_events(g.number), g.number) == \
                    p.density
            drawn.add((g.number, p.density, n == 0))
    assert len({d for _g, d, _e in drawn}) >= 2  # more than one level comes up
    # a group the user asks for alone is never drawn empty
    for seed in range(12):
        out = model.generate_group(Pattern(), 3, replace(auto[2], genre="rock"), seed)
        assert out.group_events(3)


def test_auto_on_a_model_without_a_level_table_says_what_is_missing(model):
    model.levels, model.levels_problem = None, "tiny.gguf has no level table (autobeat.levels)"
    with pytest.raises(ModelError, match="auto levels: tiny.gguf has no level table"):
        model.generate_all(Pattern(), Pattern().params, seed=1)
    pinned = model.generate_all(Pattern(), [ROCK] * 4, seed=1)  # pinned levels still work
    assert pinned.group_params(1).density == "mid"


def test_mutate_keeps_the_hits_that_carry_the_groove(model):
    assert anchor_weight(Event(4, 3, 0, 120)) < anchor_weight(Event(6, 3, 0, 120)) \
        < anchor_weight(Event(7, 3, 0, 40))
    backbeat = [Event(s, 3, 0, 120) for s in (4, 12, 20, 28)]
    ghosts = [Event(s, 3, 0, 30) for s in (3, 7, 11, 15, 19, 23, 27, 31)]
    beat = Pattern(events=(*backbeat, *ghosts), params=(ROCK,) * 4)
    kept_backbeat = kept_ghosts = 0
    for seed in range(20):
        after = set(model.mutate(beat, 1, 0.25, seed).group_events(1))
        kept_backbeat += len(set(backbeat) & after)
        kept_ghosts += len(set(ghosts) & after)
    assert kept_backbeat / (20 * 4) > 0.9  # a quarter rewritten, nearly all of it ghosts
    assert kept_ghosts / (20 * 8) < 0.75


def test_context_changes_the_output(model):
    quiet = Pattern()
    busy = context_beat()
    a = [model.generate_group(quiet, 2, ROCK, seed=s).group_events(2) for s in range(6)]
    b = [model.generate_group(busy, 2, ROCK, seed=s).group_events(2) for s in range(6)]
    assert a != b


def test_mutate_keeps_the_asked_share_exactly(model):
    beat = model.generate_group(context_beat(), 2, GroupParams(genre="rock", density="high"),
                                seed=1)
    before = beat.group_events(2)
    n = len(before)
    assert n >= 4
    for amount in (0.0, 0.25, 0.5, 1.0):
        out = model.mutate(beat, 2, amount, seed=9)
        after = out.group_events(2)
        kept = set(before) & set(after)
        assert len(kept) >= round((1 - amount) * n)
        assert len(after) == n
        assert [e for e in out.events if e.group != 2] == [e for e in beat.events if e.group != 2]
    assert model.mutate(beat, 2, 0.0, seed=9).group_events(2) == before
    assert model.mutate(beat, 2, 0.5, seed=4) == model.mutate(beat, 2, 0.5, seed=4)


def test_out_of_range_requests(model):
    with pytest.raises(ModelError, match="unknown genre 'trap'.*jazz, rock"):
        model.generate_group(Pattern(), 1, GroupParams(genre="trap"), seed=1)
    with pytest.raises(ModelError, match=r"group must be in 1..4, got 5"):
        model.generate_group(Pattern(), 5, ROCK, seed=1)
    with pytest.raises(ModelError, match=r"temperature must be in 0.05..3.0, got 9"):
        model.generate_group(Pattern(), 1, ROCK, seed=1, temperature=9)
    with pytest.raises(ModelError, match=r"top_p must be in 0..1"):
        model.generate_group(Pattern(), 1, ROCK, seed=1, top_p=0)
    with pytest.raises(ModelError, match=r"seed must be in 0..4294967295, got -1"):
        model.generate_all(Pattern(), [ROCK] * 4, seed=-1)
    with pytest.raises(ModelError, match=r"amount must be in 0..1, got 1.5"):
        model.mutate(Pattern(), 1, 1.5, seed=1)
    with pytest.raises(ModelError, match="params must have 4 groups, got 2"):
        model.generate_all(Pattern(), [ROCK] * 2, seed=1)


def test_closed_model_says_so(tiny_model):
    m = BeatModel.load(tiny_model, n_threads=1)
    m.close()
    with pytest.raises(ModelError, match="closed"):
        m.generate_group(Pattern(), 1, ROCK, seed=1)


def test_a_fill_replaces_one_bar_and_builds_to_the_next_1(model):
    groove = replace(context_beat(), params=(ROCK,) * 4)
    for bar in (0, 1):
        out = model.fill(groove, bar, seed=3)
        other = [e for e in groove.events if e.step // 16 != bar]
        assert [e for e in out.events if e.step // 16 != bar] == other  # the other bar stays
        fill = [e for e in out.events if e.step // 16 == bar]
        drums_toms = [e for e in fill if e.group in (1, 3)]
        assert len(drums_toms) >= 3  # a fill adds at least FILL_MIN_HITS
        assert out.params == groove.params
    assert model.fill(groove, 1, seed=3) == model.fill(groove, 1, seed=3)
    with pytest.raises(ModelError, match="fill bar must be 0 or 1, got 2"):
        model.fill(groove, 2, seed=3)


def test_the_fill_kept_is_the_candidate_whose_weight_comes_latest(model, monkeypatch):
    import models.groove as groove_measures

    groove = replace(context_beat(), params=(ROCK,) * 4)
    chosen = []
    real = groove_measures.busiest_beat

    def spy(p, bar):
        chosen.append(real(p, bar))
        return chosen[-1]

    monkeypatch.setattr(groove_measures, "busiest_beat", spy)
    out = model.fill(groove, 1, seed=5)
    assert len(chosen) >= 4  # every candidate was weighed (and the key may weigh again)
    assert real(out, 1) == max(b for b in chosen if b is not None)


def test_the_ride_and_the_hats_keep_off_each_others_steps():
    from models.runner import one_hand

    eighths = Pattern(events=tuple(Event(s, 5) for s in range(0, 32, 2)))
    assert one_hand(eighths, 4) == {(s, 12) for s in range(0, 32, 2)}
    assert one_hand(eighths, 1) == frozenset() and one_hand(eighths, 2) == frozenset()
    few = Pattern(events=tuple(Event(s, 5) for s in range(0, 8, 2)))  # 4 hits: no pattern
    assert one_hand(few, 4) == frozenset()
    ride = Pattern(events=tuple(Event(s, 12) for s in range(0, 32, 4)))
    assert one_hand(ride, 2) == {(s, t) for s in range(0, 32, 4) for t in (5, 7)}


def test_new_beats_never_double_the_hats_on_the_ride(model):
    for seed in range(10):
        beat = model.generate_all(Pattern(), [replace(ROCK, density="high")] * 4, seed)
        hats = {e.step for e in beat.events if e.track in (5, 7)}
        ride = {e.step for e in beat.events if e.track == 12}
        if len(hats) >= 8:
            assert not hats & ride
