"""Reports keep their order; of EngineStates only the newest is kept, and it comes last."""

from __future__ import annotations

import pytest

from engine import messages as m
from engine.report_queue import ReportQueue


def test_only_the_newest_state_is_kept_and_it_comes_last():
    q = ReportQueue()
    assert not q
    first, newest = m.EngineState(bar=1), m.EngineState(bar=2)
    port, swap = m.PortError("gone"), m.PatternSwapped(3)
    for report in (first, port, newest, swap):
        q.put(report)
    assert q
    assert q.pop() == port and q.pop() == swap and q.pop() == newest
    assert not q
    with pytest.raises(IndexError):
        q.pop()
    for report in (first, port, newest):
        q.put(report)
    assert q.drain() == [port, newest] and q.drain() == []
