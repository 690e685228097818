"""Reports on their way from the engine to its owner: in order, except that of a report
that can be replaced (``can_replace``: EngineState) only the newest is kept, and it
comes last. The engine's outbox and the client's poll both keep reports this way."""

from __future__ import annotations

from collections import deque
from typing import Any


class ReportQueue:
    def __init__(self) -> None:
        self._ordered: deque[Any] = deque()
        self._newest: Any = None  # the newest replaceable report, not yet taken

    def put(self, report: Any) -> None:
        if getattr(report, "can_replace", False):
            self._newest = report
        else:
            self._ordered.append(report)

    def __bool__(self) -> bool:
        return bool(self._ordered) or self._newest is not None

    def pop(self) -> Any:
        """The next report (IndexError when there is none)."""
        if self._ordered:
            return self._ordered.popleft()
        if self._newest is None:
            raise IndexError("no report waiting")
        report, self._newest = self._newest, None
        return report

    def drain(self) -> list[Any]:
        """Every report waiting, in the order they go out."""
        out = list(self._ordered)
        self._ordered.clear()
        if self._newest is not None:
            out.append(self._newest)
            self._newest = None
        return out
