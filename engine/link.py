"""Ableton Link in the engine process, through the aalink package.

Link shares a tempo and a beat timeline among the peers of a local network; with a
quantum of 4 beats every peer agrees on where a bar starts, so the loop's 1 is put
on the session's bar. The engine reads Link's timeline and drives the player's own
(engine.player: ``follow_timeline``), so every due time is still computed on the
engine's clock, from absolute times.

The clocks: Link keeps time on its own clock (CLOCK_MONOTONIC_RAW on Linux), the
engine on time.perf_counter (CLOCK_MONOTONIC, which NTP may slew). ``ClockMap``
maps one onto the other from readings taken back to back (the tightest of a few),
a line through the last ones (offset and rate), so the mapping stays exact to a
few microseconds. ``LinkTimeline`` reads Link's beat between two readings of its
clock, so each sample is a (Link time, beat, tempo) triple exact to the same.

aalink needs an asyncio loop to exist; one is made and never run (no callbacks are
used: the engine polls tempo, peers and playing state). aalink issue 7: a peer
enabled at once after it is made can push its own tempo onto the session; Link
itself resets its session when enabled and the older session wins, so enabling is
put off by ENABLE_AFTER_S after the Link object is made, and nothing here commits
a tempo until the user sets one.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from engine.clockstats import tightest

QUANTUM = 4.0  # beats a bar: the loop's 1 on the session's bar
ENABLE_AFTER_S = 0.6  # between making the Link object and joining (aalink issue 7)
JOIN_WAIT_S = 0.5  # after joining, wait this long for peers before taking our own phase
RESYNC_S = 0.002  # read Link's timeline again at most this often
MAP_EVERY_S = 0.25  # a new clock pair this often
MAP_PAIRS = 16  # pairs the clock map's line goes through


class LinkError(Exception):
    """aalink is missing or Link could not start."""



class ClockMap:
    """Engine time <-> Link time: a least-squares line through recent reading pairs."""

    def __init__(self, engine_now: Callable[[], float], link_now: Callable[[], float],
                 pairs: int = MAP_PAIRS) -> None:
        self.engine_now = engine_now
        self.link_now = link_now
        self._pairs: deque[tuple[float, float]] = deque(maxlen=pairs)
        self.offset = 0.0  # link = offset + rate * (engine - pivot)
        self.rate = 1.0
        self.pivot = 0.0
        self.sample()

    def sample(self) -> None:
        self._pairs.append(tightest(self.engine_now, self.link_now))
        pairs = self._pairs
        n = len(pairs)
        e_mean = sum(e for e, _ in pairs) / n
        l_mean = sum(v for _, v in pairs) / n
        sxx = sum((e - e_mean) ** 2 for e, _ in pairs)
        if n >= 3 and sxx > 1.0:  # a second of pairs at least: the rate is worth fitting
            rate = sum((e - e_mean) * (v - l_mean) for e, v in pairs) / sxx
            self.rate = rate if abs(rate - 1.0) < 0.001 else 1.0
        self.pivot, self.offset = e_mean, l_mean

    def to_link(self, engine_t: float) -> float:
        return self.offset + self.rate * (engine_t - self.pivot)

    def to_engine(self, link_t: float) -> float:
        return self.pivot + (link_t - self.offset) / self.rate


@dataclass(frozen=True, slots=True)
class Sample:
    link_time: float  # seconds on Link's clock
    beat: float  # the session's beat then (quantum 4)
    tempo: float  # BPM


class LinkTimeline:
    """Link's beat at any time, from samples read between two readings of its clock."""

    def __init__(self, link) -> None:
        self.link = link

    def now(self) -> float:
        return self.link.time.total_seconds()

    def sample(self) -> Sample:
        link = self.link
        t, beat = tightest(self.now, lambda: link.beat)
        return Sample(t, beat, link.tempo)

    @staticmethod
    def beat_at(sample: Sample, link_t: float) -> float:
        return sample.beat + (link_t - sample.link_time) * sample.tempo / 60.0


def make_link(bpm: float):
    """An aalink Link at `bpm`, quantum 4, start/stop sync on, not yet enabled."""
    try:
        import aalink
    except ImportError as exc:
        raise LinkError("Ableton Link needs the link extra: pip install 'autobeat-tui[link]' "
                        f"(aalink, GPL-3) ({exc})") from None
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    loop = asyncio.new_event_loop()  # aalink wants one; ours is never run

    async def make():
        return aalink.Link(bpm)

    try:
        link = aalink.Link(bpm) if running else loop.run_until_complete(make())
    except Exception as exc:  # noqa: BLE001 - whatever Link's constructor raised
        raise LinkError(f"Ableton Link did not start: {exc}") from None
    link.quantum = QUANTUM
    link.start_stop_sync_enabled = True
    return link, loop


class LinkDriver:
    """Joins the session and drives the player's timeline from it (engine process)."""

    def __init__(self, player, now: Callable[[], float], bpm: float, make=make_link) -> None:
        self.player = player
        self.clock = now
        self.link, self._loop = make(bpm)
        self.timeline = LinkTimeline(self.link)
        self.map = ClockMap(now, self.timeline.now)
        self.made_at = now()
        self.enabled_at: float | None = None
        self.joined = False  # the phase taken (peers found, or JOIN_WAIT_S alone)
        self.peers = 0
        self.had_peers = False
        self.playing_seen = False  # the session's playing state last read
        self.want_play = False  # our transport: play when joined
        self._next_map = 0.0
        self._next_sync = 0.0
        self.last: Sample | None = None

    # --- commands from the owner -----------------------------------------------------

    def transport(self, action: str, now: float) -> None:
        if action == "stop":
            self.want_play = False
            if self.enabled_at is not None:
                self.link.playing = False
            self.player.stop(now)
        else:  # start and continue both start at the next bar of the session
            self.want_play = True
            if self.joined:
                self.link.playing = True
                self._start(now)

    def set_tempo(self, bpm: float) -> None:
        """A tempo set here goes out to every peer."""
        self.link.tempo = float(bpm)

    def close(self) -> None:
        try:
            self.link.enabled = False
        except Exception:  # noqa: BLE001 - closing: nothing to tell
            pass
        self.link = None
        self._loop.close()

    # --- the loop ----------------------------------------------------------------------

    def update(self, now: float) -> None:
        """Called by the engine loop: join, follow peers, tempo, start/stop, phase."""
        link = self.link
        if self.enabled_at is None:
            if now - self.made_at < ENABLE_AFTER_S:
                return
            link.enabled = True
            self.enabled_at = now
        peers = link.num_peers
        if peers != self.peers:
            self._peers_changed(peers)
        if not self.joined:
            if peers == 0 and now - self.enabled_at < JOIN_WAIT_S:
                return
            self.joined = True
            self.playing_seen = link.playing
            if self.want_play or self.playing_seen:  # ours, or the session's (start/stop)
                self.want_play = True
                link.playing = True
                self._start(now)
        if now >= self._next_map:
            self._next_map = now + MAP_EVERY_S
            self.map.sample()
        playing = link.playing
        if playing != self.playing_seen:  # a peer started or stopped the session
            self.playing_seen = playing
            if playing and not self.player.playing:
                self.want_play = True
                self._start(now)
            elif not playing and self.player.playing:
                self.want_play = False
                self.player.stop(now)
        if now >= self._next_sync:
            self._next_sync = now + RESYNC_S
            self.sync()

    def sync(self) -> None:
        """Read Link's timeline and put the player's on it."""
        sample = self.timeline.sample()
        self.last = sample
        self.player.follow_timeline(self.map.to_engine(sample.link_time), sample.beat,
                                    sample.tempo)

    def _start(self, now: float) -> None:
        """Start the loop at the session's next bar (its 1 on the bar)."""
        self.sync()
        assert self.last is not None
        beat_now = LinkTimeline.beat_at(self.last, self.map.to_link(now))
        origin = math.ceil(beat_now / QUANTUM + 1e-9) * QUANTUM
        self.player.start_at_beat(origin)

    def _peers_changed(self, peers: int) -> None:
        gone = self.had_peers and peers == 0
        self.peers = peers
        if peers:
            self.had_peers = True
            self.player.link_problem("")
        elif gone:
            self.player.link_problem(f"the Link session is gone (no peers): playing on at "
                                     f"{self.player.bpm:.1f} BPM")
