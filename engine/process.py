"""The engine process: the player's own interpreter, driven by absolute due times.

Started by engine.client.Engine (multiprocessing, spawn). It waits in select() on
the command pipe and the clock input until shortly before the next due time,
spins the last SPIN_S, sends, and reports its state at most 60 times a second
(only when it changed). It exits, after All Notes Off, on Shutdown, when the pipe
closes or when its owner's process is gone.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import os
import select
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from engine import messages as m
from engine.player import LOST_AFTER_S, Player
from engine.ports import (
    NONE,
    NullOutput,
    PortError,
    PortWatch,
    RtOutput,
    open_input,
    open_output,
)
from patterns.kit import KitMap

SPIN_S = 0.001  # spin this long before a due time instead of sleeping
REPORT_S = 1.0 / 60.0  # at most 60 state reports a second
PORT_CHECK_S = 1.0  # how often a lost port is looked for again
REOPEN_ROOM_S = 0.05  # open a new MIDI client only with this much time before the next event
RECONNECT_ROOM_S = 0.015  # move our port to a port that came back: a few ms
QUIET_S = 0.002  # housekeeping (reports, port checks) only when the next event is further


@dataclass(frozen=True, slots=True)
class EngineConfig:
    out: str | None = None
    clock_in: str | None = None
    send_clock: bool = False
    latency_ms: float = 0.0
    api: str | None = None
    kit: KitMap | None = None
    external: bool = False  # follow the clock from clock_in
    record: bool = False  # keep timing measurements for the benchmark
    realtime: bool = True  # try SCHED_FIFO / nice / mlockall
    parent_pid: int = 0


def make_realtime() -> str:
    """Raise the process's scheduling priority as far as allowed; says what it got."""
    got = "normal"
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(70))
        got = "SCHED_FIFO 70"
    except (AttributeError, OSError, PermissionError):
        try:
            os.nice(-10)
            got = "nice -10"
        except OSError:
            pass
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.mlockall(3) == 0:  # MCL_CURRENT | MCL_FUTURE: no page faults while playing
            got += ", mlockall"
    except (OSError, AttributeError):
        pass
    return got


class EngineLoop:
    def __init__(self, conn: Connection, config: EngineConfig) -> None:
        self.conn = conn
        self.config = config
        self.clock = time.perf_counter
        self.realtime = "normal"
        self.out_name = config.out
        self.latency_ms = config.latency_ms
        self.out = NullOutput()
        self.out_ok = True
        self.input = None
        self.clock_in = config.clock_in
        self.inbox: collections.deque = collections.deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.player = Player(
            self.out, self.clock, config.kit, config.latency_ms, config.send_clock, config.record
        )
        self.running = True
        self.last_state: m.EngineState | None = None
        self.next_report = 0.0
        self.next_port_check = 0.0
        self._outbox: collections.deque = collections.deque()
        self._state_out = None
        self._out_watch: PortWatch | None = None
        self._in_watch: PortWatch | None = None

    # --- ports ------------------------------------------------------------------

    def report(self, message) -> None:
        """Queue a report; it goes out when the pipe has room (never blocks the player).

        An owner that stops reading loses nothing but stale states: the newest
        EngineState replaces the one waiting, other reports wait in order.
        """
        if getattr(message, "can_replace", False):
            self._state_out = message
        else:
            self._outbox.append(message)

    def flush_reports(self) -> None:
        conn = self.conn
        while self._outbox or self._state_out is not None:
            try:
                _, writable, _ = select.select([], [conn.fileno()], [], 0)
            except (OSError, ValueError):
                self.running = False
                return
            if not writable:
                return
            if self._outbox:
                message = self._outbox.popleft()
            else:
                message, self._state_out = self._state_out, None
            try:
                conn.send(message)
            except (BrokenPipeError, OSError):
                self.running = False
                return

    def open_out(self) -> None:
        old = self.out
        try:
            new = open_output(self.out_name, self.config.api)
            self.out_ok = True
        except PortError as exc:
            # keep a client (our virtual port) so the wanted port is found cheaply later
            self.out_ok = False
            self.report(m.PortError(f"{exc}; waiting for it"))
            try:
                new = open_output(None, self.config.api)
            except PortError:
                new = NullOutput()
        self.player.out = new
        self.out = new
        if old is not new:
            try:
                old.close()
            except Exception:
                pass

    def _deliver(self, message: list[int], t: float) -> None:
        """Called from rtmidi's thread: queue the message and wake the loop."""
        self.inbox.append((message, t))
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass

    def open_in(self) -> None:
        self.close_in()
        try:
            self.input = open_input(self.clock_in, self._deliver, self.clock, self.config.api)
        except PortError as exc:
            self.input = None
            self.report(m.PortError(str(exc)))

    def close_in(self) -> None:
        if self.input is not None:
            try:
                self.input.close()
            except Exception:
                pass
            self.input = None

    def check_ports(self, room: float) -> None:
        """A port that went away is reported, and reopened once it is back.

        Looking is cheap (a port list); reopening costs tens of milliseconds, so it
        waits for `room` (seconds to the next due event) of at least REOPEN_ROOM_S.
        """
        out = self.out
        if self.out_ok and not out.alive():
            self.out_ok = False
            self.report(m.PortError(f"output {out.name!r} went away; retrying"))
            self.player.all_notes_off()
        if not self.out_ok and self.out_name and self.out_name != NONE:
            if isinstance(out, RtOutput):
                if out.find(self.out_name) is not None and room >= RECONNECT_ROOM_S:
                    self.out_ok = out.reconnect(self.out_name)
            else:  # no client at all (no MIDI system when we started): look, then open
                if self._out_watch is None:
                    self._out_watch = PortWatch("out", self.out_name, self.config.api)
                if self._out_watch.present() and room >= REOPEN_ROOM_S:
                    try:
                        new = open_output(self.out_name, self.config.api)
                    except PortError:
                        return
                    out.close()
                    self.out = self.player.out = new
                    self.out_ok = True
                    self._out_watch.close()
                    self._out_watch = None
        if self.player.mode != "external":
            return
        if self.input is not None and not self.input.alive():
            self.report(m.PortError(f"clock input {self.input.name!r} went away; retrying"))
            self.close_in()
        if self.input is None:
            if self._in_watch is None:
                self._in_watch = PortWatch("in", self.clock_in, self.config.api)
            if self._in_watch.present() and room >= REOPEN_ROOM_S:
                try:
                    self.input = open_input(self.clock_in, self._deliver, self.clock,
                                            self.config.api)
                except PortError:
                    return
                self._in_watch.close()
                self._in_watch = None

    # --- commands -----------------------------------------------------------------

    def handle(self, cmd) -> None:
        p = self.player
        now = self.clock()
        try:
            if isinstance(cmd, m.SetPattern):
                p.set_pattern(cmd.pattern, cmd.at)
            elif isinstance(cmd, m.SwapGroup):
                p.swap_group(cmd.group, cmd.events, cmd.at)
            elif isinstance(cmd, m.Transport):
                p.transport(cmd.action, now)
            elif isinstance(cmd, m.SetTempo):
                p.set_tempo(cmd.bpm, now)
            elif isinstance(cmd, m.SetSwing):
                p.set_swing(cmd.percent)
            elif isinstance(cmd, m.SetMute):
                p.set_mute(cmd.track, cmd.muted)
            elif isinstance(cmd, m.SetSolo):
                p.set_solo(cmd.track, cmd.soloed)
            elif isinstance(cmd, m.SetClock):
                p.send_clock = cmd.send_clock
                if cmd.mode == "external":
                    self.clock_in = cmd.clock_in
                    p.set_mode("external", now)
                    self.open_in()
                else:
                    p.set_mode(cmd.mode, now)
                    self.close_in()
            elif isinstance(cmd, m.SetOutput):
                p.all_notes_off()
                self.out_name = cmd.name
                p.latency = cmd.latency_ms / 1000.0
                self.open_out()
            elif isinstance(cmd, m.SetKit):
                p.set_kit(cmd.kit, now)
            elif isinstance(cmd, m.PlayOnce):
                p.play_once(cmd.pattern, cmd.bar, cmd.fill, cmd.crash, cmd.at_bar)
            elif isinstance(cmd, m.CancelOnce):
                p.cancel_once()
            elif isinstance(cmd, m.SetTrigSeed):
                p.trigs.seed = cmd.seed
            elif isinstance(cmd, m.RequestTiming):  # the asker waits for it: send at once
                self.flush_reports()
                try:
                    self.conn.send(self.timing_report())
                except (BrokenPipeError, OSError):
                    self.running = False
            elif isinstance(cmd, m.Shutdown):
                self.running = False
            else:
                self.report(m.CommandError(f"unknown command {type(cmd).__name__}"))
        except (ValueError, TypeError) as exc:
            self.report(m.CommandError(str(exc)))

    def timing_report(self) -> m.TimingReport:
        t = self.player.timing
        if t is None:
            return m.TimingReport((), (), 0.0, 0.0, 0.0, 0, self.player.bpm, self.realtime)
        return m.TimingReport(tuple(t.lateness), tuple(t.clock_sent), t.start_time, t.last_due,
                              t.last_sent, t.last_tick, self.player.bpm, self.realtime,
                              tuple(t.tempo_trace or ()), tuple(t.clock_received or ()),
                              tuple(t.note_arrival), tuple(t.clock_arrival), tuple(t.wake_late),
                              tuple(t.note_stalled), tuple(t.clock_stalled))

    def read_commands(self) -> None:
        try:
            while self.running and self.conn.poll():
                self.handle(self.conn.recv())
        except (EOFError, OSError):
            self.running = False  # the owner is gone

    def drain_input(self) -> None:
        inbox = self.inbox
        while inbox:
            message, t = inbox.popleft()
            self.player.clock_message(message, t)

    # --- the loop -------------------------------------------------------------------

    def housekeeping(self, now: float, room: float) -> None:
        if now >= self.next_report:
            self.next_report = now + REPORT_S
            if self.config.parent_pid and os.getppid() != self.config.parent_pid:
                self.running = False
                return
            for r in self.player.reports:
                self.report(r)
            self.player.reports.clear()
            state = self.player.state(now, self.out.name if self.out_ok else NONE)
            if state != self.last_state:
                self.last_state = state
                self.report(state)
            self.flush_reports()
        if now >= self.next_port_check:
            self.next_port_check = now + PORT_CHECK_S
            self.check_ports(room)

    def run(self) -> None:
        clock = self.clock
        player = self.player
        conn_fd = self.conn.fileno()
        wake_fd = self._wake_r
        timing = player.timing
        self.read_commands()  # what the owner sent while we started
        while self.running:
            self.drain_input()
            now = clock()
            player.check_clock(now)
            due = player.next_due()
            if due is not None and due - now <= SPIN_S:
                player.arrived_at = now
                if timing is None:
                    while clock() < due:
                        pass
                    player.run_due(clock())
                else:
                    self._run_due_measured(now, due, timing)
                continue
            room = float("inf") if due is None else due - now
            if room > QUIET_S:
                self.housekeeping(now, room)
                if not self.running:
                    break
            wake = self.next_report if room > QUIET_S else now + room
            if due is not None:
                wake = min(wake, due - SPIN_S)
            if player.mode == "external" and player.last_clock_at is not None:
                if not player.clock_lost:
                    wake = min(wake, player.last_clock_at + LOST_AFTER_S + 0.001)
            timeout = max(0.0, wake - clock())
            ready, _, _ = select.select([conn_fd, wake_fd], [], [], timeout)
            if not ready and timing is not None:
                timing.wake_late.append(clock() - wake)  # the OS's share of any lateness
            if wake_fd in ready:
                try:
                    os.read(wake_fd, 4096)
                except BlockingIOError:
                    pass
            if conn_fd in ready:
                self.read_commands()

    def _run_due_measured(self, now: float, due: float, timing) -> None:
        """Spin and send as run() does, also noting the time the OS did not run us.

        Wall time minus this thread's CPU time over the spin and the sends: what a
        higher-priority thread, an interrupt or the hypervisor took (bench timing).
        """
        clock = self.clock
        notes, ticks = len(timing.lateness), len(timing.clock_sent)
        cpu0 = time.thread_time()
        while clock() < due:
            pass
        self.player.run_due(clock())
        lost = max(0.0, (clock() - now) - (time.thread_time() - cpu0))
        timing.note_stalled.extend([lost] * (len(timing.lateness) - notes))
        timing.clock_stalled.extend([lost] * (len(timing.clock_sent) - ticks))

    def close(self) -> None:
        try:
            self.player.stop(self.clock())
        except Exception:
            pass
        self.close_in()
        try:
            self.out.close()
        except Exception:
            pass


def _terminated(signum, frame) -> None:
    raise SystemExit(0)  # unwinds through main's finally: All Notes Off, ports closed


def main(conn: Connection, config: EngineConfig) -> None:
    """The engine process's entry point."""
    # Ctrl-C in a terminal reaches the whole process group: the owner decides when
    # the engine stops (Shutdown, or its pipe closing); SIGTERM stops it cleanly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    loop = EngineLoop(conn, config)
    try:
        if config.realtime:
            loop.realtime = make_realtime()
        loop.open_out()
        if config.external:
            loop.player.set_mode("external", loop.clock())
            loop.open_in()
        sys.setswitchinterval(0.0005)  # rtmidi's callback thread gets the GIL at once
        gc.collect()
        gc.freeze()  # what exists now is never scanned again: shorter collections
        loop.next_port_check = loop.clock() + PORT_CHECK_S
        loop.run()
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()
        try:
            loop.flush_reports()
            conn.close()
        except OSError:
            pass
    sys.exit(0)
