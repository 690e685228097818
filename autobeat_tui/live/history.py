"""Undo and redo: a stack of immutable Pattern snapshots.

Every generation and edit commits a new snapshot; small nudges that would flood
the stack (a tempo key held down, cycling a genre) replace the present one.
"""

from __future__ import annotations

from collections import deque

from patterns.pattern import Pattern

DEFAULT_LIMIT = 200


class History:
    """The present pattern, the snapshots before it and the ones undone after it."""

    def __init__(self, present: Pattern, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.present = present
        self._past: deque[Pattern] = deque(maxlen=limit)
        self._future: list[Pattern] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._past)

    @property
    def can_redo(self) -> bool:
        return bool(self._future)

    @property
    def depth(self) -> tuple[int, int]:
        """(undo steps, redo steps) available."""
        return len(self._past), len(self._future)

    def commit(self, pattern: Pattern) -> Pattern:
        """Make `pattern` the present, undoable; drops what was undone. No-op if equal."""
        if pattern != self.present:
            self._past.append(self.present)
            self.present = pattern
            self._future.clear()
        return self.present

    def replace(self, pattern: Pattern) -> Pattern:
        """Change the present without a new undo step."""
        self.present = pattern
        return self.present

    def reset(self, pattern: Pattern) -> Pattern:
        """Start over from `pattern` with empty stacks (a new bank, for instance)."""
        self._past.clear()
        self._future.clear()
        self.present = pattern
        return self.present

    def undo(self) -> Pattern | None:
        """Step back; the new present, or None when there is nothing to undo."""
        if not self._past:
            return None
        self._future.append(self.present)
        self.present = self._past.pop()
        return self.present

    def redo(self) -> Pattern | None:
        """Step forward again; the new present, or None when there is nothing to redo."""
        if not self._future:
            return None
        self._past.append(self.present)
        self.present = self._future.pop()
        return self.present

    def stacks(self) -> tuple[list[Pattern], list[Pattern]]:
        """(the snapshots before the present, oldest first; the ones undone, next last)."""
        return list(self._past), list(self._future)

    def restore(self, present: Pattern, past: list[Pattern], future: list[Pattern]) -> None:
        """Put back a history kept elsewhere (a recovery file)."""
        self._past.clear()
        self._past.extend(past)
        self._future[:] = future
        self.present = present
