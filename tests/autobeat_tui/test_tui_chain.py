"""Which slot a chain queues, and at which bar."""

from __future__ import annotations

from autobeat_tui.live.chain import ChainPlayer


def test_a_chain_queues_each_next_slot_in_the_last_bar_of_a_pass():
    chain = ChainPlayer([("A01", 2), ("A02", 1)])
    assert chain.first() == "A01"
    assert chain.on_bar(0) is None  # still waiting for A01 to swap in
    chain.swapped(4)  # A01 plays from bar 4: passes at 4-5 and 6-7
    assert chain.on_bar(4) is None
    assert chain.on_bar(5) is None  # A01 again: nothing to send
    assert chain.on_bar(6) is None
    assert chain.on_bar(7) == "A02"  # queued in the last bar, swaps at 8
    assert chain.on_bar(8) is None  # waiting for the swap
    chain.swapped(8)
    assert chain.on_bar(9) == "A01"  # loops
    assert chain.describe() == "A01*2 A02"
