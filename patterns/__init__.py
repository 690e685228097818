"""The domain: a 2-bar, 12-track drum pattern, its groups, kit maps and banks.

Headless: imports neither textual nor rich (checked by tests/test_import_hygiene.py).
"""

from __future__ import annotations

from patterns.grid import (
    BARS,
    GROUPS,
    MAX_OFFSET,
    MIN_OFFSET,
    STEPS,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    TICKS_PER_STEP,
    TRACKS,
    Group,
    Track,
    group_of,
    track_by_name,
)
from patterns.pattern import Event, GroupParams, Pattern, PatternError

__all__ = [
    "BARS",
    "GROUPS",
    "MAX_OFFSET",
    "MIN_OFFSET",
    "STEPS",
    "STEPS_PER_BAR",
    "STEPS_PER_BEAT",
    "TICKS_PER_STEP",
    "TRACKS",
    "Event",
    "Group",
    "GroupParams",
    "Pattern",
    "PatternError",
    "Track",
    "group_of",
    "track_by_name",
]
