"""A player's note-ons as sounds to mix: the port a shadow player plays into.

The audio output and the offline render drive an engine.player.Player of their
own on a clock they set to each due time, so mute, solo, swing, micro-timing,
tempo changes and the bar-quantised swaps are exactly the player's. Its sends
come here: each note-on becomes (time, track, velocity), the time being when it
is to sound (the due time plus the player's latency). The shadow player always
uses the General MIDI kit map, whose notes name the tracks one to one.
"""

from __future__ import annotations

from collections.abc import Callable

from patterns.grid import TRACKS
from patterns.kit import KitMap

SHADOW_KIT = KitMap.general_midi()
_TRACK_OF_NOTE = {t.gm_note: t.number for t in TRACKS}


class HitCollector:
    """An output port (``send``) that keeps note-ons as (seconds, track, velocity)."""

    name = "audio"

    def __init__(self, clock: Callable[[], float], latency: Callable[[], float]) -> None:
        self._clock = clock
        self._latency = latency
        self.hits: list[tuple[float, int, int]] = []

    def send(self, message: list[int]) -> None:
        if len(message) == 3 and message[0] & 0xF0 == 0x90 and message[2] > 0:
            track = _TRACK_OF_NOTE.get(message[1])
            if track is not None:
                self.hits.append((self._clock() + self._latency(), track, message[2]))

    def take(self) -> list[tuple[float, int, int]]:
        hits, self.hits = self.hits, []
        return hits

    def close(self) -> None:
        pass

    def alive(self) -> bool:
        return True


class FakeClock:
    """A clock set by hand: the shadow player's time."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def advance(player, clock: FakeClock, until: float) -> None:
    """Perform every action of `player` that sounds before `until`, each at its due time."""
    while True:
        due = player.next_due()
        if due is None or due + player.latency >= until:
            return
        clock.t = due
        player.run_due(due)
