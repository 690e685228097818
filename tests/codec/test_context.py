from __future__ import annotations

import pytest

from codec.context import (
    MAX_CONTEXT_EVENTS,
    context_events,
    decode_sequence,
    group_part,
    prompt_tokens,
    sequence_tokens,
)
from codec.errors import CodecError
from codec.vocab import Vocabulary
from patterns.pattern import Event, GroupParams, Pattern

PARAMS = GroupParams(genre="funk", type="fill", density="high", intensity="low")


def beat() -> Pattern:
    return Pattern(events=(
        Event(0, 1, 3, 100), Event(0, 5, -2, 80), Event(2, 5, 1, 60), Event(4, 3, 0, 110),
        Event(6, 8, 5, 90), Event(8, 11, -7, 120), Event(12, 12, 0, 70),
    ))


def test_sequence_layout_context_then_group():
    toks = sequence_tokens(beat(), 2, PARAMS)
    assert toks == [
        "<bos>", "ctx",
        "step:0", "track:1", "step:4", "track:3", "step:6", "track:8",
        "step:8", "track:11", "step:12", "track:12",
        "/ctx",
        "genre:funk", "type:fill", "density:high", "intensity:low", "group:2",
        "step:0", "track:5", "offset:-2", "velocity:79",
        "step:2", "track:5", "offset:1", "velocity:59",
        "end",
    ]


def test_prompt_is_the_sequence_up_to_the_group_token():
    p = prompt_tokens(beat(), 1, PARAMS)
    s = sequence_tokens(beat(), 1, PARAMS)
    assert s[: len(p)] == p
    assert p[-1] == "group:1"
    assert "step:4" not in p[p.index("/ctx"):]  # the group's own events are not in the context


def test_include_selects_context_groups_and_empty_context_is_valid():
    toks = prompt_tokens(beat(), 1, PARAMS, include=[4])
    assert toks[:6] == ["<bos>", "ctx", "step:8", "track:11", "step:12", "track:12"]
    assert prompt_tokens(beat(), 1, PARAMS, include=())[:3] == ["<bos>", "ctx", "/ctx"]


def test_decode_sequence_round_trip_and_every_token_is_in_the_vocabulary():
    vocab = Vocabulary.from_genres(["funk", "rock"])
    for group in (1, 2, 3, 4):
        toks = sequence_tokens(beat(), group, PARAMS)
        vocab.ids(toks)
        decoded = decode_sequence(toks)
        assert decoded.group == group
        assert [(e.step, e.track, e.offset) for e in decoded.events] == [
            (e.step, e.track, e.offset) for e in beat().group_events(group)
        ]
    assert group_part(["genre:funk"]) == ["genre:funk"]


def test_context_is_capped():
    events = tuple(Event(s, t) for s in range(32) for t in (1, 3, 5))
    assert len(context_events(Pattern(events=events), 4)) == MAX_CONTEXT_EVENTS


def test_bad_group_and_missing_header():
    with pytest.raises(CodecError, match="group must be in 1..4, got 5"):
        context_events(beat(), 5)
    with pytest.raises(CodecError, match="no group header"):
        decode_sequence(["<bos>", "ctx", "/ctx", "genre:funk"])
