"""Playing a chain of slots (``chain A01*4 A02*2``): which slot to queue, and when.

The engine knows patterns, not chains: the app queues each next pattern during the
last bar of the pass that is playing, so it swaps in at the bar line where that
pass ends. Each pass of a pattern is 2 bars. The chain loops.
"""

from __future__ import annotations

from collections.abc import Sequence

from patterns.bank import chain_text

BARS_PER_PASS = 2


class ChainPlayer:
    """Follows the engine's bar count through a list of (slot, times)."""

    def __init__(self, entries: Sequence[tuple[str, int]]) -> None:
        if not entries:
            raise ValueError("a chain needs at least one slot")
        self.entries = tuple(entries)
        self.order = tuple(slot for slot, times in entries for _ in range(times))
        self.index = 0
        self.pass_start: int | None = None  # the bar the playing pass began on
        self.waiting = True  # a slot was queued and has not swapped in yet

    @property
    def slot(self) -> str:
        """The slot playing (or queued to play) now."""
        return self.order[self.index]

    def first(self) -> str:
        """The slot to queue when the chain starts."""
        return self.order[0]

    def swapped(self, bar: int) -> None:
        """The queued slot began playing at `bar`."""
        if self.waiting:
            self.waiting = False
            self.pass_start = bar

    def on_bar(self, bar: int) -> str | None:
        """Called with each new bar number: the slot to queue now, or None."""
        if self.waiting or self.pass_start is None:
            return None
        if bar < self.pass_start + BARS_PER_PASS - 1:
            return None
        previous = self.slot
        self.index = (self.index + 1) % len(self.order)
        if self.slot == previous:  # the same pattern again: nothing to send
            self.pass_start += BARS_PER_PASS
            return None
        self.waiting = True
        return self.slot

    def describe(self) -> str:
        return chain_text(self.entries)
