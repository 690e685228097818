"""Step literals: one track's 32 steps as text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autobeat_tui.live.steps import (
    StepLiteralError,
    char_velocity,
    digit_velocity,
    format_track,
    parse_steps,
    parse_track_literal,
)
from patterns.pattern import Event


def test_the_issue_example_puts_kicks_where_the_x_are():
    events = parse_track_literal(1, "x...x...x...x...x...x...x..x.x..")
    assert [e.step for e in events] == [0, 4, 8, 12, 16, 20, 24, 27, 29]
    assert {e.track for e in events} == {1}
    assert {e.velocity for e in events} == {100}
    assert {e.offset for e in events} == {0}


def test_letters_and_digits_give_velocities():
    assert char_velocity("x") == 100
    assert char_velocity("X") == 127
    assert char_velocity("o") == 64
    assert char_velocity("g") == 32
    assert [digit_velocity(d) for d in (1, 5, 9)] == [14, 71, 127]
    assert char_velocity(".") is None and char_velocity("-") is None


def test_short_literals_repeat_and_separators_are_ignored():
    assert parse_steps("x...") == parse_steps("x...x...x...x...x...x...x...x...")
    assert parse_steps("x... x... | x... x...") == parse_steps("x...")
    assert len(parse_steps("9")) == 32


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x..", "got 3"),
        ("x" * 33, "got 33"),
        ("x...y...", "unknown step 'y'"),
        ("0" * 32, "unknown step '0'"),
    ],
)
def test_bad_literals_say_what_is_wrong(text, message):
    with pytest.raises(StepLiteralError, match=message):
        parse_steps(text)


def test_digit_out_of_range_names_the_range():
    with pytest.raises(StepLiteralError, match="1..9, got 0"):
        digit_velocity(0)


@given(st.lists(st.sampled_from(".xX123456789"), min_size=32, max_size=32))
def test_format_reads_back_to_the_same_hits(chars):
    events = parse_track_literal(3, "".join(chars))
    again = parse_track_literal(3, format_track(events, 3))
    assert [e.step for e in again] == [e.step for e in events]
    for a, b in zip(again, events, strict=True):
        assert abs(a.velocity - b.velocity) <= 8


def test_format_ignores_other_tracks_and_sets_bars_apart():
    events = (Event(0, 1, 0, 127), Event(16, 1, 5, 100), Event(2, 2, 0, 100))
    assert format_track(events, 1) == "X............... x..............."
