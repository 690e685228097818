"""Hypothesis strategies for patterns, shared by the codec and bank tests."""

from __future__ import annotations

from hypothesis import strategies as st

from codec.vocab import VELOCITY_VALUES
from patterns.grid import GROUPS, MAX_OFFSET, MIN_OFFSET, STEPS, TRACKS
from patterns.pattern import LEVELS, TYPES, Event, GroupParams, Pattern

GENRES = ("rock", "funk", "jazz", "hiphop", "latin")

params_st = st.builds(
    GroupParams,
    genre=st.sampled_from(GENRES),
    type=st.sampled_from(TYPES),
    density=st.sampled_from(LEVELS),
    intensity=st.sampled_from(LEVELS),
)


@st.composite
def events_st(draw, velocities=st.sampled_from(VELOCITY_VALUES), group: int | None = None,
              min_offset: int = MIN_OFFSET):
    tracks = GROUPS[group - 1].tracks if group else tuple(t.number for t in TRACKS)
    cells = draw(
        st.sets(st.tuples(st.integers(0, STEPS - 1), st.sampled_from(tracks)), max_size=40)
    )
    return tuple(
        Event(step, track, draw(st.integers(min_offset, MAX_OFFSET)), draw(velocities))
        for step, track in sorted(cells)
    )


@st.composite
def patterns_st(draw, velocities=st.sampled_from(VELOCITY_VALUES), min_offset: int = MIN_OFFSET):
    return Pattern(
        events=draw(events_st(velocities=velocities, min_offset=min_offset)),
        params=tuple(draw(params_st) for _ in GROUPS),
        tempo=draw(st.integers(40, 240).map(float)),
        swing=draw(st.sampled_from([50.0, 54.0, 58.0, 62.0, 66.0])),
    )
