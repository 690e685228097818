"""The player: loops an immutable pattern snapshot on an absolute schedule.

Song position is counted in integer grid ticks since Start (96 a step, 3072 a loop).
A timeline maps ticks to seconds: ``anchor_time + (tick - anchor_tick) * spt``.
With the internal clock the anchor moves only at Start/Continue and at a tempo
change (re-anchored at the current position, so the phase does not jump); every
due time is computed from it, never from a sum of sleeps. Following an external
clock, each incoming tick re-anchors the timeline on the loop filter's prediction.

The player does no waiting itself: its owner (engine/process.py, or a unit test
with a fake clock) asks ``next_due()`` and calls ``run_due(now)``. Sends go to an
output port (anything with ``send(list[int])``); ``clock()`` is read after each
send to measure lateness.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from engine.clockguard import RateGuard, describe, valid_message
from engine.clockstats import PhaseLog
from engine.follower import ClockFollower
from engine.messages import ClockInfo, ClockProblem, EngineState, PatternSwapped
from engine.once import Playing, make_oneshot
from engine.schedule import BAR_TICKS, CLOCK_TICKS, EMPTY, GATE, LOOP_TICKS, compile_pattern
from patterns.grid import TICKS_PER_BEAT, TICKS_PER_STEP
from patterns.kit import KitMap
from patterns.pattern import MAX_SWING, MAX_TEMPO, MIN_SWING, MIN_TEMPO, Pattern

START_LEAD = 0.005  # seconds between a Start command and the first downbeat
MAX_LATENCY_MS = 100.0  # an output may be shifted this far either way
LATE_S = 0.001  # an event sent later than this after its due time counts as late
LOST_AFTER_S = 0.2  # following: no tick for this long: the clock stopped dead
FREEWHEEL_CLOCKS = 2  # following: play at most this many clock ticks past the last one

CLOCK, START, CONTINUE, STOP, SPP = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2


@dataclass
class Timing:
    """What the benchmark reads: lateness of every note-on, clock tick send times."""

    lateness: array  # seconds, note-ons
    clock_sent: array  # seconds, when each clock tick was sent
    last_due: float = 0.0  # the last note-on's due time
    last_sent: float = 0.0  # ... and when it went out
    last_tick: int = 0  # ... its song tick
    start_time: float = 0.0  # when song tick 0 was due (internal clock)
    tempo_trace: array | None = None  # following: the tempo estimate after each tick
    clock_received: array | None = None  # following: arrival time of every clock tick
    # where lateness comes from: how long after its due time the engine's loop got to
    # each note-on and clock tick (> 0: the OS ran the engine late, before any sending),
    # how long the OS kept it from running while it spun and sent them, and how late
    # the OS ended every timed sleep of the loop
    note_arrival: array = field(default_factory=lambda: array("d"))
    clock_arrival: array = field(default_factory=lambda: array("d"))
    note_stalled: array = field(default_factory=lambda: array("d"))
    clock_stalled: array = field(default_factory=lambda: array("d"))
    wake_late: array = field(default_factory=lambda: array("d"))


class Player:
    """Plays patterns; see the module docstring for the time model."""

    def __init__(
        self,
        out,
        clock: Callable[[], float],
        kit: KitMap | None = None,
        latency_ms: float = 0.0,
        send_clock: bool = False,
        record: bool = False,
    ) -> None:
        self.out = out
        self.clock = clock
        self.kit = kit or KitMap.general_midi()
        self.latency = 0.0
        self.set_latency(latency_ms)
        self.start_lead = START_LEAD  # the audio output asks for more (its buffer)
        self.freewheel_clocks = FREEWHEEL_CLOCKS  # ... and to run further ahead of the master
        self.send_clock = send_clock
        # clock out switched on while playing: the song tick (a 16th) it starts from
        self._clock_resume: int | None = None
        self.mode = "internal"
        self.pattern = Pattern()
        self.swing = self.pattern.swing
        self.schedule = EMPTY
        self.pending: Pattern | None = None  # waits for the bar line at pending_tick
        self.pending_tick: int | None = None
        self.mutes: set[int] = set()
        self.playing_out = Playing()  # one-bar alternatives (fills) and conditional trigs
        self.trigs = self.playing_out.trigs
        self.once_late = 0  # PlayOnce for a bar already begun (benchmark: fills ready in time)
        self.solos: set[int] = set()
        self.bpm = 120.0
        self.spt = 60.0 / (self.bpm * TICKS_PER_BEAT)  # seconds a grid tick
        self.anchor_time = 0.0
        self.anchor_tick = 0.0
        self.playing = False
        self.position = 0  # the next song tick not yet performed
        self.late_events = 0
        self.reports: list = []  # PatternSwapped waiting to go out
        self._offs: list[tuple[int, int, int]] = []  # heap of (tick, channel, note)
        self._off_due: dict[tuple[int, int], int] = {}  # (channel, note) -> its note-off tick
        self.timing = (
            Timing(array("d"), array("d"), tempo_trace=array("d"), clock_received=array("d"))
            if record else None
        )
        self.arrived_at: float | None = None  # when the engine's loop got to the due actions
        # following an external clock
        self.follower = ClockFollower()
        self.ext_running = False  # the master says we run (after Start/Continue)
        self.ext_armed = False  # Start/Continue seen; the next tick is the position
        self.ext_position = 0  # where the next Continue starts (set by SPP and Stop)
        self.ext_clock_tick = 0  # the song tick of the latest clock tick
        self.ext_enabled = True  # the owner's transport while following
        self.clock_lost = False
        self.last_clock_at: float | None = None
        # a clock that stopped dead or went mad: play on at the last good tempo
        self.freewheel = False
        self.clock_problem = ""  # what is wrong with the clock input now ("": nothing)
        self.guard = RateGuard()
        self._before_short: tuple | None = None  # the timeline before a run of short ticks
        # for `:clock`: the phase offset's log, since when the lock holds, the input
        self.phase_log = PhaseLog()
        self.locked_since: float | None = None
        self.clock_port = ""
        self._info = ClockInfo()
        self._info_at = -1.0
        # Ableton Link (engine/link.py drives these): the session's beat of song tick 0
        self.link_origin = 0.0
        self.link_peers = 0
        self._link_anchor: tuple[float, float, float] | None = None  # (time, beat, tempo)

    # --- time -------------------------------------------------------------------

    def time_of(self, tick: float) -> float:
        return self.anchor_time + (tick - self.anchor_tick) * self.spt

    def tick_at(self, t: float) -> float:
        return self.anchor_tick + (t - self.anchor_time) / self.spt

    # --- commands -----------------------------------------------------------------

    def set_pattern(self, pattern: Pattern, at: str = "bar", now: float | None = None) -> None:
        """Play `pattern` from the next bar line ("bar") or at once ("now")."""
        _check_at(at)
        self.swing = pattern.swing
        if not self.playing or at == "now":
            self._install(pattern)
        else:
            self.pending = pattern
            self.pending_tick = _next_bar(self.position)

    def swap_group(self, group: int, events, at: str = "bar") -> None:
        """Replace one group's events from the next bar line (or at once)."""
        _check_at(at)
        base = self.pending if self.pending is not None else self.pattern
        self.set_pattern(replace(base.with_group(group, events), swing=self.swing), at)

    def play_once(self, pattern: Pattern, bar: int, fill: bool = True, crash: bool = True,
                  at_bar: int | None = None) -> None:
        """Play bar ``bar`` of ``pattern`` once in song bar ``at_bar`` (None, or a bar
        already begun: the next bar line) instead of the groove's (engine/once.py)."""
        if bar not in (0, 1):
            raise ValueError(f"bar must be 0 or 1, got {bar!r}")
        now = self.position
        if self._may_play():  # the position lags when nothing was due for a while
            now = max(now, int(self.tick_at(self.clock() + self.latency)) + 1)
        first = _next_bar(now) // BAR_TICKS
        target = first if at_bar is None or at_bar < first else at_bar
        if at_bar is not None and at_bar < first:
            self.once_late += 1
        self.playing_out.add(make_oneshot(pattern, bar, target, self.kit, self.swing, fill,
                                          crash))

    def cancel_once(self) -> None:
        self.playing_out.cancel(self.position)

    def set_swing(self, percent: float) -> None:
        if not MIN_SWING <= percent <= MAX_SWING:
            raise ValueError(f"swing must be in {MIN_SWING:g}..{MAX_SWING:g} %, got {percent}")
        self.swing = float(percent)
        self.schedule = compile_pattern(self.pattern, self.kit, self.swing)

    def set_kit(self, kit: KitMap, now: float) -> None:
        self.all_notes_off()
        self.kit = kit
        self.schedule = compile_pattern(self.pattern, self.kit, self.swing)

    def set_tempo(self, bpm: float, now: float) -> None:
        """Change tempo at `now` without a jump in phase (internal clock)."""
        if not MIN_TEMPO <= bpm <= MAX_TEMPO:
            raise ValueError(f"tempo must be in {MIN_TEMPO:g}..{MAX_TEMPO:g} BPM, got {bpm}")
        if self.mode == "internal" and self.playing:
            self.anchor_tick = self.tick_at(now)  # the phase now, on the old tempo
            self.anchor_time = now
        self.bpm = float(bpm)
        if self.mode == "internal":
            self.spt = 60.0 / (self.bpm * TICKS_PER_BEAT)

    def set_latency(self, ms: float) -> None:
        """Send `ms` earlier (> 0: gear with its own delay) or later (< 0)."""
        if not -MAX_LATENCY_MS <= ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency must be in -{MAX_LATENCY_MS:g}..{MAX_LATENCY_MS:g} ms, "
                             f"got {ms:g}")
        self.latency = ms / 1000.0

    def set_mute(self, track: int, muted: bool) -> None:
        _check_track(track)
        (self.mutes.add if muted else self.mutes.discard)(track)

    def set_solo(self, track: int, soloed: bool) -> None:
        _check_track(track)
        (self.solos.add if soloed else self.solos.discard)(track)

    def set_mode(self, mode: str, now: float) -> None:
        if mode not in ("internal", "external", "link"):
            raise ValueError(f"clock mode must be internal, external or link, got {mode!r}")
        if mode == self.mode:
            return
        self.stop(now)
        self.mode = mode
        self.follower.reset()
        self.ext_running = self.ext_armed = False
        self.clock_lost = False
        self.last_clock_at = None
        self.freewheel = False
        self.clock_problem = ""
        self.guard.reset()
        self._before_short = None
        self.phase_log.reset()
        self.locked_since = None
        self._info_at = -1.0
        self._link_anchor = None
        self.link_peers = 0
        self.spt = 60.0 / (self.bpm * TICKS_PER_BEAT)

    def transport(self, action: str, now: float) -> None:
        if action not in ("start", "stop", "continue"):
            raise ValueError(f"transport action must be start, stop or continue, got {action!r}")
        if self.mode == "external":  # the master runs the transport; this gates the output
            self.ext_enabled = action != "stop"
            if action == "stop":
                self.all_notes_off()
            return
        if action == "stop":
            self.stop(now)
        elif action == "start":
            self.start(now, 0)
        elif not self.playing:
            self.start(now, self.position)

    def start(self, now: float, position: int) -> None:
        """Start (position 0) or continue (position on a 16th) with the internal clock."""
        if self.playing:
            self.stop(now)
        if self.pending is not None:
            self._install(self.pending)
        if position == 0:  # from the top: the conditions play out as they did before
            self.trigs.reset()
        position = _ceil_to(position, TICKS_PER_STEP)
        self.position = position
        self._clock_resume = None  # Start (or Song Position and Continue) below
        self.anchor_tick = float(position)
        self.anchor_time = now + self.start_lead + max(0.0, self.latency)
        self.playing = True
        if self.timing is not None and position == 0:
            self.timing.start_time = self.anchor_time
        if self.send_clock and self.mode == "internal":
            if position == 0:
                self._send([START])
            else:
                spp = position // TICKS_PER_STEP
                self._send([SPP, spp & 0x7F, (spp >> 7) & 0x7F])
                self._send([CONTINUE])

    def stop(self, now: float) -> None:
        """Stop where we are: all notes off; the position moves to the next 16th for Continue."""
        was_playing = self.playing
        self.playing = False
        self._clock_resume = None  # a start tells the gear where the song is
        if was_playing:  # one-bar alternatives were placed in the song that stopped
            self.playing_out.once.clear()
        self.all_notes_off()
        if self.mode == "internal":
            self.position = _ceil_to(self.position, TICKS_PER_STEP)
        if was_playing and self.sends_clock:
            self._send([STOP])

    def all_notes_off(self) -> None:
        """Send the pending note-offs now, then All Notes Off on every channel of the kit."""
        while self._offs:
            _, channel, note = heapq.heappop(self._offs)
            if self._off_due.pop((channel, note), None) is not None:
                self._send([0x80 | channel, note, 0])
        self._off_due.clear()
        for channel in sorted(set(self.kit.channels)):
            self._send([0xB0 | (channel - 1), 123, 0])

    # --- following --------------------------------------------------------------

    def clock_message(self, message: list[int], t: float) -> None:
        """A realtime message from the clock input at time t (ignored unless following)."""
        if self.mode != "external":
            return
        if not valid_message(message):
            self._problem(f"clock input sends garbage ({describe(message)}): ignored")
            return
        status = message[0]
        if status == CLOCK:
            self._ext_tick(t)
            return
        if status in (START, STOP, CONTINUE):  # the master runs the transport: no freewheel
            self.freewheel = False
        if status == START:
            self.ext_position = 0
            self.ext_armed = True
            self.ext_running = False
            self.all_notes_off()
            self.trigs.reset()  # from the top: the conditions play out as they did before
            self.playing_out.once.clear()
        elif status == CONTINUE:
            self.ext_armed = True
            self.ext_running = False
        elif status == STOP:
            if self.ext_running:
                self.ext_position = self.ext_clock_tick + CLOCK_TICKS
            self.ext_running = self.ext_armed = False
            self.playing = False
            self.all_notes_off()
        elif status == SPP and len(message) >= 3:
            if not self.ext_running:
                sixteenths = (message[2] & 0x7F) << 7 | (message[1] & 0x7F)
                self.ext_position = sixteenths * TICKS_PER_STEP

    def _ext_tick(self, t: float) -> None:
        guard = self.guard
        short = guard.short(t)
        self.last_clock_at = t
        if self.clock_lost:
            self.clock_lost = False
        if not guard.tick(t):  # far too fast for a clock: keep the beat we had
            if not self.freewheel:
                if self._before_short is not None:  # undo the run of short ticks
                    (self.anchor_time, self.anchor_tick, self.spt, self.bpm,
                     self.ext_clock_tick) = self._before_short
                self.freewheel = True
                self.follower.reset()
                fast = guard.bpm
                self._problem(f"clock input runs at {fast:.0f} BPM, beyond 20..300: playing "
                              f"on at {self.bpm:.1f} BPM" if fast else "clock input runs wild")
            return
        if short and self._before_short is None:
            self._before_short = (self.anchor_time, self.anchor_tick, self.spt, self.bpm,
                                  self.ext_clock_tick)
        elif not short:
            self._before_short = None
        resumed = False
        if self.freewheel:  # a clock again: carry on from where the beat has got to
            self.freewheel = False
            self._problem("")
            if self.ext_running and not self.ext_armed:
                self.ext_clock_tick = round(self.tick_at(t) / CLOCK_TICKS) * CLOCK_TICKS
                resumed = True
        f = self.follower
        if f.predicted is not None and not resumed and not self.ext_armed:
            self.phase_log.add(t, f.predicted - t)  # where our beat put this tick
        f.tick(t)
        if not f.locked():
            self.locked_since = None
        elif self.locked_since is None:
            self.locked_since = t
        if self.timing is not None:
            self.timing.clock_received.append(t)
        if self.ext_armed:  # the first tick after Start/Continue is the position itself
            self.ext_armed = False
            self.ext_running = True
            self.ext_clock_tick = self.ext_position
            if self.pending is not None:
                self._install(self.pending)
            self.position = self.ext_position
            self.playing = True
        elif self.ext_running and not resumed:
            self.ext_clock_tick += CLOCK_TICKS
        f = self.follower
        if self.timing is not None and self.ext_running and f.bpm is not None:
            self.timing.tempo_trace.append(f.bpm)
        if f.period is not None and f.predicted is not None:
            self.spt = f.period / CLOCK_TICKS
            self.bpm = 60.0 / (self.spt * TICKS_PER_BEAT)
            self.anchor_time = f.predicted
            self.anchor_tick = float(self.ext_clock_tick + CLOCK_TICKS)
        elif self.ext_running:  # no tempo yet: play this tick's events now
            self.anchor_time = t
            self.anchor_tick = float(self.ext_clock_tick)

    # --- Ableton Link ----------------------------------------------------------------

    def follow_timeline(self, t: float, beat: float, tempo: float) -> None:
        """Link: the session is at `beat` at time t (engine clock), at `tempo`."""
        if self.mode != "link":
            return
        last = self._link_anchor
        self._link_anchor = (t, beat, tempo)
        if last is not None and last[2] == tempo and self.playing:
            # where our timeline had this beat, against where the session has it
            ours = last[0] + (beat - last[1]) * 60.0 / tempo
            self.phase_log.add(t, t - ours)
        self.bpm = float(tempo)
        self.spt = 60.0 / (self.bpm * TICKS_PER_BEAT)
        self.anchor_time = t
        self.anchor_tick = (beat - self.link_origin) * TICKS_PER_BEAT

    def start_at_beat(self, origin: float) -> None:
        """Link: play from the top, the loop's 1 on the session's beat `origin` (a bar)."""
        if self.playing:
            self.all_notes_off()
        if self.pending is not None:
            self._install(self.pending)
        self.link_origin = origin
        self.position = 0
        self.playing = True
        self._clock_resume = None  # the Start below tells the gear
        if self._link_anchor is not None:
            t, beat, tempo = self._link_anchor
            self.anchor_time = t
            self.anchor_tick = (beat - origin) * TICKS_PER_BEAT
        if self.timing is not None:
            self.timing.start_time = self.time_of(0)
        if self.send_clock:  # the gear on MIDI clock starts on the session's bar too
            self._send([START])

    def link_problem(self, text: str) -> None:
        self._problem(text)

    def check_clock(self, now: float) -> None:
        """Following: after LOST_AFTER_S without a tick, play on at the last tempo."""
        if self.mode != "external" or self.last_clock_at is None or self.clock_lost:
            return
        if now - self.last_clock_at > LOST_AFTER_S:
            self.clock_lost = True
            if self.ext_running and self.playing:
                self.freewheel = True
                # what was held back waiting for the next tick is past: skip it
                self.position = max(self.position, math.ceil(self.tick_at(now)))
                self._problem(f"clock input stopped (no tick for {LOST_AFTER_S * 1000:.0f} "
                              f"ms): playing on at {self.bpm:.1f} BPM")

    def _problem(self, text: str) -> None:
        """Report what is wrong with the clock input, once a change ("" when fine)."""
        if text == self.clock_problem:
            return
        self.clock_problem = text
        self.reports.append(ClockProblem(text))

    # --- playing ------------------------------------------------------------------

    def _audible(self, track: int) -> bool:
        if track in self.mutes:
            return False
        return not self.solos or track in self.solos

    def _install(self, pattern: Pattern) -> None:
        self.pattern = pattern
        self.schedule = compile_pattern(pattern, self.kit, self.swing)
        self.pending = None
        self.pending_tick = None

    def _next_tick(self) -> int | None:
        """The song tick of the next action (note-on, note-off, clock, swap)."""
        candidates = []
        hit = self.schedule.next_tick(self.position)
        if hit is not None:
            candidates.append(hit)
        if self._offs:
            candidates.append(max(self._offs[0][0], self.position))
        if self.pending_tick is not None:
            candidates.append(max(self.pending_tick, self.position))
        if self.playing_out.once:
            once = self.playing_out.next_tick(self.position)
            if once is not None:
                candidates.append(once)
        if self.sends_clock:
            candidates.append(_ceil_to(self.position, CLOCK_TICKS))
        return min(candidates) if candidates else None

    def set_send_clock(self, on: bool, now: float) -> None:
        """Clock out on or off. Switched on while playing, the gear is told where the song
        is (Song Position, then Continue) on the next 16th, and follows from there;
        switched off while playing, it gets a Stop."""
        was = self.sends_clock
        self.send_clock = on
        if not self.playing:
            return
        if on and not was:
            here = max(self.position, math.ceil(self.tick_at(now)))
            self._clock_resume = _ceil_to(here, TICKS_PER_STEP)
        elif was and not on:
            self._clock_resume = None
            self._send([STOP])

    def _clock_in_step(self, tick: int) -> bool:
        """Whether the clock tick at `tick` goes out (after a resume's Song Position)."""
        resume = self._clock_resume
        if resume is None:
            return True
        if tick < resume:
            return False
        self._clock_resume = None
        spp = tick // TICKS_PER_STEP
        self._send([SPP, spp & 0x7F, (spp >> 7) & 0x7F])
        self._send([CONTINUE])
        return True

    @property
    def output_lead(self) -> float:
        """How early to send to the output to land on the due time: its own delay where it
        keeps one (engine.jackmidi.JackOutput: one period, rtmidi under JACK: half)."""
        return getattr(self.out, "lead", 0.0)

    @property
    def sends_clock(self) -> bool:
        """Whether this player is the MIDI clock master: on its own clock or Link's (a
        Link-to-MIDI-clock bridge for gear without Link); never while following one."""
        return self.send_clock and self.mode in ("internal", "link")

    def _may_play(self) -> bool:
        if not self.playing:
            return False
        if self.mode == "external":
            return self.ext_running and self.ext_enabled
        return True

    def next_due(self) -> float | None:
        """When the next action is due (seconds), or None when nothing is to come."""
        if not self._may_play():
            return None
        tick = self._next_tick()
        if tick is None:
            return None
        if (self.mode == "external" and not self.freewheel
                and tick > self.ext_clock_tick + self.freewheel_clocks * CLOCK_TICKS):
            return None  # wait for the master's next tick
        return self.time_of(tick) - self.latency - self.output_lead

    def run_due(self, now: float) -> int:
        """Perform every action due at or before `now`; the number of note-ons sent."""
        sent = 0
        while True:
            due = self.next_due()
            if due is None or due > now:
                return sent
            sent += self._perform(self._next_tick(), due)  # type: ignore[arg-type]

    def _perform(self, tick: int, due: float) -> int:
        timing = self.timing
        # the clock tick first: the rest of the studio takes its tempo from these
        if self.sends_clock and tick % CLOCK_TICKS == 0 and self._clock_in_step(tick):
            self.out.send([CLOCK])
            if timing is not None:
                timing.clock_sent.append(self.clock())
                timing.clock_arrival.append(self._arrival(due))
        if self.pending_tick is not None and self.pending_tick <= tick:
            assert self.pending is not None
            self._install(self.pending)
            self.reports.append(PatternSwapped(bar=tick // BAR_TICKS))
        # then the note-ons, then the note-offs due (a note-off on time matters less,
        # and a retriggered note ends its ringing self first, below)
        offs = self._offs
        count = 0
        out = self.playing_out
        schedule = self.schedule
        if out.once or schedule.conditional:
            hits = out.hits_due(schedule, tick, self.pattern)
        else:
            hits = schedule.hits_at(tick)
        for hit in hits:
            if not self._audible(hit.track):
                continue
            key = (hit.channel, hit.note)
            if key in self._off_due:  # retrigger: end the ringing note first
                del self._off_due[key]
                self.out.send([0x80 | hit.channel, hit.note, 0])
            self.out.send([0x90 | hit.channel, hit.note, hit.velocity])
            off = tick + GATE
            self._off_due[key] = off
            heapq.heappush(offs, (off, hit.channel, hit.note))
            count += 1
        if count:
            sent_at = self.clock()
            late = sent_at - due
            if late > LATE_S:
                self.late_events += count
            if timing is not None:
                arrival = self._arrival(due)
                for _ in range(count):
                    timing.lateness.append(late)
                    timing.note_arrival.append(arrival)
                timing.last_due, timing.last_sent = due, sent_at
                timing.last_tick = tick
        while offs and offs[0][0] <= tick:
            off_tick, channel, note = heapq.heappop(offs)
            if self._off_due.get((channel, note)) == off_tick:
                del self._off_due[(channel, note)]
                self.out.send([0x80 | channel, note, 0])
        self.position = tick + 1
        if out.once:
            out.prune(self.position)
        return count

    def _arrival(self, due: float) -> float:
        """How long after `due` the engine's loop got to it (0: in time)."""
        return 0.0 if self.arrived_at is None else max(0.0, self.arrived_at - due)

    def _send(self, message: list[int]) -> None:
        self.out.send(message)

    # --- state --------------------------------------------------------------------

    def state(self, now: float, output: str) -> EngineState:
        playing = self._may_play()
        if playing:
            tick = max(0, int(self.tick_at(now + self.latency)))
            if self.mode == "external" and not self.freewheel:
                tick = min(tick, self.ext_clock_tick + CLOCK_TICKS * FREEWHEEL_CLOCKS)
        else:
            tick = self.position
        follower_locked = self.follower.locked()
        if self.mode == "link":
            locked = self._link_anchor is not None
        else:
            locked = (True if self.mode == "internal"
                      else follower_locked and not self.clock_lost and not self.freewheel)
        fill, fill_bar = self.playing_out.fill_state(tick) if playing else ("", -1)
        return EngineState(
            playing=playing,
            step=(tick % LOOP_TICKS) // TICKS_PER_STEP,
            bar=tick // BAR_TICKS,
            tempo=round(self.bpm, 2),
            clock=self.mode,
            locked=locked,
            clock_lost=self.clock_lost,
            clock_problem=self.clock_problem,
            output=output,
            pending=self.pending is not None,
            late_events=self.late_events,
            mutes=frozenset(self.mutes),
            solos=frozenset(self.solos),
            clock_info=self.clock_info(now, locked),
            fill=fill,
            fill_bar=fill_bar,
            once_late=self.once_late,
        )

    def clock_info(self, now: float, locked: bool) -> ClockInfo:
        """What `:clock` shows; refreshed once a second or when the lock changes."""
        if not locked:
            self.locked_since = None
        elif self.locked_since is None:
            self.locked_since = now
        if now - self._info_at < 1.0 and locked == self._info.locked:
            return self._info
        self._info_at = now
        if self.mode == "internal":
            self._info = ClockInfo("internal", tempo=round(self.bpm, 2),
                                   locked_for_s=int(now - self.locked_since),
                                   sending=self.sends_clock)
            return self._info
        offset = self.phase_log.offset(now)
        if self.mode == "link":
            drift = self.phase_log.drift(now)
            self._info = ClockInfo(
                "link", tempo=round(self.bpm, 2), locked=locked,
                locked_for_s=int(now - self.locked_since) if self.locked_since else 0,
                peers=self.link_peers,
                offset_ms=None if offset is None else round(offset * 1000, 3),
                drift_ms=None if drift is None else round(drift[0] * 1000, 3),
                drift_span_s=0 if drift is None else int(drift[1]), sending=self.sends_clock)
            return self._info
        jitter = self.follower.jitter
        drift = self.phase_log.drift(now)
        self._info = ClockInfo(
            "midi", port=self.clock_port, tempo=round(self.bpm, 2),
            jitter_ms=None if jitter is None else round(jitter * 1000, 3), locked=locked,
            locked_for_s=int(now - self.locked_since) if self.locked_since is not None else 0,
            offset_ms=None if offset is None else round(offset * 1000, 3),
            drift_ms=None if drift is None else round(drift[0] * 1000, 3),
            drift_span_s=0 if drift is None else int(drift[1]),
        )
        return self._info


def _next_bar(position: int) -> int:
    return _ceil_to(position, BAR_TICKS)


def _ceil_to(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def _check_at(at: str) -> None:
    if at not in ("bar", "now"):
        raise ValueError(f"at must be 'bar' or 'now', got {at!r}")


def _check_track(track: int) -> None:
    if isinstance(track, bool) or not isinstance(track, int) or not 1 <= track <= 12:
        raise ValueError(f"track must be in 1..12, got {track!r}")
