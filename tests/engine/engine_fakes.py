"""A fake clock and a recording output port for the engine's unit tests."""

from __future__ import annotations


class FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class RecordingPort:
    """Records (time, message) for every send, time read from the fake clock."""

    name = "recording"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, list[int]]] = []

    def send(self, message: list[int]) -> None:
        self.sent.append((self.clock(), list(message)))

    def close(self) -> None:
        pass

    def note_ons(self) -> list[tuple[float, list[int]]]:
        return [(t, msg) for t, msg in self.sent if msg[0] & 0xF0 == 0x90]
