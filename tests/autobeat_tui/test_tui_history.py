"""Undo and redo over Pattern snapshots."""

from __future__ import annotations

import pytest

from autobeat_tui.live.history import History
from patterns.pattern import Event, Pattern

A = Pattern()
B = A.with_event(Event(0, 1))
C = B.with_event(Event(4, 3))


def test_undo_and_redo_walk_the_snapshots():
    h = History(A)
    h.commit(B)
    h.commit(C)
    assert h.depth == (2, 0)
    assert h.undo() == B
    assert h.undo() == A
    assert h.undo() is None
    assert h.present == A
    assert h.redo() == B
    assert h.redo() == C
    assert h.redo() is None


def test_a_new_edit_drops_what_was_undone():
    h = History(A)
    h.commit(B)
    h.undo()
    h.commit(C)
    assert not h.can_redo
    assert h.undo() == A


def test_replace_changes_the_present_without_an_undo_step():
    h = History(A)
    h.commit(B)
    h.replace(B.with_tempo(130))
    assert h.depth == (1, 0)
    assert h.undo() == A


def test_committing_the_same_pattern_is_not_a_step():
    h = History(A)
    h.commit(A)
    assert not h.can_undo


def test_the_limit_keeps_the_newest_snapshots():
    h = History(Pattern(), limit=3)
    patterns = [Pattern().with_tempo(100 + i) for i in range(6)]
    for p in patterns:
        h.commit(p)
    assert h.depth == (3, 0)
    h.undo(), h.undo(), h.undo()
    assert h.present == patterns[2]
    with pytest.raises(ValueError, match="at least 1"):
        History(A, limit=0)
