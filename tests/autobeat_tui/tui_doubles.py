"""Test doubles for the engine and the model (tests only)."""

from __future__ import annotations

import threading
from dataclasses import replace

from engine.messages import EngineState
from patterns.grid import GROUPS
from patterns.pattern import Event, Pattern


class RecordingEngine:
    """Records every command; reports are whatever the test queues."""

    def __init__(self) -> None:
        self.sent: list = []
        self.reports: list = []
        self.started = False
        self.stopped = False
        self.alive = True

    def start(self) -> None:
        self.started = True

    def send(self, command) -> None:
        self.sent.append(command)

    def poll(self) -> list:
        out, self.reports = self.reports, []
        return out

    def stop(self) -> None:
        self.stopped = True
        self.alive = False

    def of(self, kind) -> list:
        return [c for c in self.sent if isinstance(c, kind)]

    def report(self, **fields) -> None:
        self.reports.append(EngineState(**fields))


class DyingEngine(RecordingEngine):
    """A recording engine that can be killed (alive = False); panic and restart are
    recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.panics: list = []
        self.restarts = 0

    def panic(self, output) -> bool:
        self.panics.append(output)
        return True

    def restart(self) -> None:
        self.restarts += 1
        self.alive = True


class FakeModel:
    """Writes a fixed, seed-dependent beat; can be made slow with a gate."""

    name = "fake-model"
    genres = ("funk", "jazz", "rock")

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[tuple] = []
        self.gate = gate
        self._active = 0
        self.overlapped = False

    def _enter(self) -> None:
        self._active += 1
        if self._active > 1:
            self.overlapped = True
        if self.gate is not None:
            self.gate.wait(5)

    def _events(self, group: int, seed: int) -> list[Event]:
        tracks = GROUPS[group - 1].tracks
        return [
            Event(step, tracks[(step // 4 + seed) % len(tracks)], 0, 60 + (seed + step) % 60)
            for step in range(seed % 4, 32, 4)
        ]

    def generate_group(self, pattern: Pattern, group, params, seed, temperature=1.0, top_p=0.95):
        self._enter()
        try:
            self.calls.append(("group", group, params.genre, seed))
            return pattern.with_group(group, self._events(group, seed), params)
        finally:
            self._active -= 1

    def generate_all(self, pattern: Pattern, params, seed, temperature=1.0, top_p=0.95):
        self._enter()
        try:
            self.calls.append(("all", seed))
            for g in GROUPS:
                pattern = pattern.with_group(g.number, self._events(g.number, seed + g.number))
            return pattern
        finally:
            self._active -= 1

    def mutate(self, pattern: Pattern, group, amount, seed, temperature=1.0, top_p=0.95):
        self._enter()
        try:
            self.calls.append(("mutate", group, amount, seed))
            events = list(pattern.group_events(group))
            if events:
                events[0] = replace(events[0], velocity=events[0].velocity % 127 + 1)
            else:
                events = self._events(group, seed)
            return pattern.with_group(group, events)
        finally:
            self._active -= 1

    def fill(self, groove: Pattern, bar: int, seed: int, temperature=1.0, top_p=0.95):
        """The groove with bar `bar` a snare roll on its last beat and toms before it."""
        self._enter()
        try:
            self.calls.append(("fill", bar, seed))
            first = bar * 16
            kept = [e for e in groove.events if e.step // 16 != bar]
            roll = [Event(first + s, 9 if s < 12 else 3, 0, 90) for s in range(8, 16)]
            return groove.with_events([*kept, *roll])
        finally:
            self._active -= 1

    def close(self) -> None:
        pass


class MemoryBankStore:
    """save_bank double: remembers what was written."""

    def __init__(self) -> None:
        self.saved: list = []

    def __call__(self, bank, path) -> None:
        self.saved.append((bank, path))
