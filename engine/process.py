"""The engine process: the player's own interpreter, driven by absolute due times.

Started by engine.client.Engine (multiprocessing, spawn). It waits in select() on
the command pipe and the clock input until shortly before the next due time,
spins the last SPIN_S, sends, and reports its state at most 60 times a second
(only when it changed). It exits, after All Notes Off, on Shutdown, when the pipe
closes or when its owner's process is gone.
"""

from __future__ import annotations

import collections
import contextlib
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
from engine.audio import AUDIO, AudioError, AudioOutput, open_audio, split_out
from engine.player import LOST_AFTER_S, START_LEAD, Player
from engine.ports import (
    NONE,
    NullOutput,
    PortError,
    PortWatch,
    RtOutput,
    jack_server_id,
    open_input,
    open_output,
)
from engine.report_queue import ReportQueue
from patterns.kit import KitMap

SPIN_S = 0.001  # spin this long before a due time instead of sleeping
REPORT_S = 1.0 / 60.0  # at most 60 state reports a second
PORT_CHECK_S = 1.0  # how often the ports are checked
LOST_CHECK_S = 0.2  # how often, while a port or the JACK server is gone, it is looked for
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
    link: bool = False  # follow the Ableton Link session
    record: bool = False  # keep timing measurements for the benchmark
    realtime: bool = True  # try SCHED_FIFO / nice / mlockall
    parent_pid: int = 0
    # the sound card (engine/audio.py): "on" (say so when there is none), "auto" (only
    # where a device answers) or "off"; out may also ask for it ("audio", "audio+NAME")
    audio: str = "off"
    kit_dir: str | None = None  # WAV files replacing the built-in kit
    audio_backend: str | None = None  # a miniaudio backend (None: any; "null": no card)
    log_path: str | None = None  # where fd 2 goes: C libraries' messages (JACK's) land here


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
        wants_audio, self.out_name = split_out(config.out)
        self.audio_mode = "on" if wants_audio else config.audio
        self.audio: AudioOutput | None = None
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
        self._outbox = ReportQueue()
        self._out_watch: PortWatch | None = None
        self._in_watch: PortWatch | None = None
        self.link = None  # engine.link.LinkDriver while the clock is Link
        self._jack_id: tuple[int, int] | None = None  # the JACK server our clients live in
        self._jack_lost = False  # that server went away: waiting for one to come back

    # --- ports ------------------------------------------------------------------

    def report(self, message) -> None:
        """Queue a report; it goes out when the pipe has room (never blocks the player).

        An owner that stops reading loses nothing but stale states: the newest
        EngineState replaces the one waiting, other reports wait in order.
        """
        self._outbox.put(message)

    def flush_reports(self) -> None:
        conn = self.conn
        while self._outbox:
            try:
                _, writable, _ = select.select([], [conn.fileno()], [], 0)
            except (OSError, ValueError):
                self.running = False
                return
            if not writable:
                return
            message = self._outbox.pop()
            try:
                conn.send(message)
            except (BrokenPipeError, OSError):
                self.running = False
                return

    @contextlib.contextmanager
    def _input_out_of_jack(self):
        """Around making or closing an rtmidi JACK client: our JACK input (a Python
        callback, engine/jackmidi.py) leaves the server meanwhile. python-rtmidi keeps
        the GIL while JACK changes its graph, and JACK waits for every client's cycle,
        ours included, which needs the GIL: a deadlock. The input comes back after (the
        follower plays on through the few ms; a Start or Stop sent in them is missed).
        Only an output change under JACK below JackOutput's period does this."""
        from engine.jackmidi import JackInput, JackOutput

        # (where our own JackOutput serves the server, no rtmidi client is made there)
        paused = isinstance(self.input, JackInput) and not isinstance(self.out, JackOutput)
        if paused:
            self.close_in()
        try:
            yield
        finally:
            if paused and self.player.mode == "external":
                self.open_in()

    def open_out(self) -> None:
        with self._input_out_of_jack():
            self._open_out()

    def _open_out(self) -> None:
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
        if getattr(new, "is_jack", False):
            self._jack_id = jack_server_id()
        if old is not new:
            try:
                old.close()
            except Exception:
                pass

    def set_audio(self, mode: str) -> None:
        """Open ("on", "auto") or close ("off") the sound card output; the players then
        start with the lead the audio needs (its buffer), or the usual one."""
        if mode == "off":
            if self.audio is not None:
                self.audio.close()
                self.audio = None
            self.player.start_lead = START_LEAD
            return
        if self.audio is None:
            try:
                audio, _ = open_audio(self.config.kit_dir, self.player.latency * 1000.0,
                                      self.config.audio_backend, self.config.record,
                                      self.config.realtime and self.realtime != "normal")
            except AudioError as exc:
                if mode == "on":
                    self.report(m.AudioProblem(f"{exc}; MIDI plays on"))
                return
            audio.follow(self.player, self.clock())
            self.audio = audio
        self.player.start_lead = self.audio.player.start_lead

    def output_name(self) -> str:
        """What the status line shows: "audio", "audio+PORT", the MIDI port, or none."""
        midi = self.out.name if self.out_ok else NONE
        if self.audio is None:
            return midi
        if self.out_name is None or midi == NONE:
            return AUDIO
        return f"{AUDIO}+{midi}"

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
            self.player.clock_port = self.input.name
        except PortError as exc:
            self.input = None
            self.report(m.PortError(str(exc)))

    def open_link(self, now: float) -> None:
        """Join the Link session (engine/link.py); the player follows its timeline."""
        if self.link is not None:
            return
        from engine.link import LinkDriver, LinkError

        bpm = self.player.bpm
        was_playing = self.player.playing
        try:
            players = _LinkPlayers(self)
            driver = LinkDriver(players, self.clock, bpm)
        except LinkError as exc:
            self.report(m.CommandError(str(exc)))
            return
        players.set_mode("link", now)
        self.link = driver
        if was_playing:
            driver.transport("start", now)

    def close_link(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None

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
        if self._check_jack(room):
            return
        out = self.out
        if self.out_ok and not out.alive():
            self.out_ok = False
            self.report(m.PortError(f"output {out.name!r} went away; retrying"))
            self.player.all_notes_off()
        if not self.out_ok and self.out_name and self.out_name != NONE:
            if hasattr(out, "reconnect"):  # a client of its own (rtmidi's, or JACK's)
                if out.find(self.out_name) is not None and room >= RECONNECT_ROOM_S:
                    with self._input_out_of_jack() if isinstance(out, RtOutput) \
                            else contextlib.nullcontext():
                        self.out_ok = out.reconnect(self.out_name)
            else:  # no client at all (no MIDI system when we started): look, then open
                if self._out_watch is None:
                    self._out_watch = PortWatch("out", self.out_name, self.config.api)
                if self._out_watch.present() and room >= REOPEN_ROOM_S:
                    with self._input_out_of_jack():
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
                    self.player.clock_port = self.input.name
                except PortError:
                    return
                self._in_watch.close()
                self._in_watch = None

    def _check_jack(self, room: float) -> bool:
        """A JACK server that stopped takes our clients with it: drop them, say so, and
        when a server runs again under the same name, open new ones (the output and
        clock input by the same names). True while there is no server to use."""
        if self._jack_id is None and not self._jack_lost:
            return False
        now_id = jack_server_id()
        if not self._jack_lost:
            if now_id == self._jack_id:
                return False
            self._jack_lost = True
            self.out_ok = False
            name = self.out.name
            self.player.all_notes_off()
            for port in (self.out, self.input):
                if port is not None and hasattr(port, "abandon"):
                    port.abandon()
            self.out = self.player.out = NullOutput()
            self.input = None
            self._out_watch = self._in_watch = None  # their clients died with the server
            where = f"; JACK's own messages are in {self.config.log_path}" \
                if self.config.log_path else ""
            self.report(m.PortError(
                f"the JACK server stopped; waiting for it to come back (output {name!r}){where}"))
            return True
        if now_id is None or room < REOPEN_ROOM_S:
            return True
        self._jack_lost = False  # a server runs again: new clients in it
        self._jack_id = now_id
        if not self.out_name or self.out_name == NONE:
            self.open_out()  # our own virtual port: made anew
        else:  # the named port: now if it is there, else as soon as it is (a PortWatch)
            try:
                self.out = self.player.out = open_output(self.out_name, self.config.api)
                self.out_ok = True
            except PortError:
                self.out_ok = False
        if self.player.mode == "external":
            self.open_in()
        return False

    # --- commands -----------------------------------------------------------------

    def handle(self, cmd) -> None:
        p = self.player
        now = self.clock()
        try:
            match cmd:
                case m.SetPattern(pattern=pattern, at=at):
                    p.set_pattern(pattern, at)
                case m.SwapGroup(group=group, events=events, at=at):
                    p.swap_group(group, events, at)
                case m.Transport(action=action):
                    if self.link is not None:
                        self.link.transport(action, now)
                    else:
                        p.transport(action, now)
                case m.SetTempo(bpm=bpm):
                    p.set_tempo(bpm, now)
                    if self.link is not None:
                        self.link.set_tempo(bpm)
                case m.SetSwing(percent=percent):
                    p.set_swing(percent)
                case m.SetMute(track=track, muted=muted):
                    p.set_mute(track, muted)
                case m.SetSolo(track=track, soloed=soloed):
                    p.set_solo(track, soloed)
                case m.SetClock(mode=mode, clock_in=clock_in, send_clock=send_clock):
                    p.set_send_clock(send_clock, now)
                    if mode != "link":
                        self.close_link()
                    if mode == "external":
                        self.clock_in = clock_in
                        p.set_mode("external", now)
                        self.open_in()
                    elif mode == "link":
                        self.close_in()
                        self.open_link(now)
                    else:
                        p.set_mode(mode, now)
                        self.close_in()
                case m.SetOutput(name=name, latency_ms=latency_ms):
                    p.set_latency(latency_ms)
                    p.all_notes_off()
                    wants_audio, self.out_name = split_out(name)
                    self.open_out()
                    self.set_audio("on" if wants_audio else "off")
                    return
                case m.SetLatency(ms=ms):
                    p.set_latency(ms)
                case m.SetKit(kit=kit):
                    p.set_kit(kit, now)
                case m.PlayOnce(pattern=pattern, bar=bar, fill=fill, crash=crash, at_bar=at_bar):
                    p.play_once(pattern, bar, fill, crash, at_bar)
                case m.CancelOnce():
                    p.cancel_once()
                case m.SetTrigSeed(seed=seed):
                    p.trigs.seed = seed
                case m.RequestTiming():  # the asker waits for it: send at once
                    self.flush_reports()
                    try:
                        self.conn.send(self.timing_report())
                    except (BrokenPipeError, OSError):
                        self.running = False
                case m.RequestAudioStats():
                    self.flush_reports()
                    try:
                        self.conn.send(self.audio.stats() if self.audio is not None
                                       else m.CommandError("there is no audio output"))
                    except (BrokenPipeError, OSError):
                        self.running = False
                    return
                case m.Shutdown():
                    self.running = False
                case _:
                    self.report(m.CommandError(f"unknown command {type(cmd).__name__}"))
                    return
            if self.audio is not None:
                self.audio.mirror(cmd, now)  # the sound card plays what the player plays
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
                              tuple(t.note_stalled), tuple(t.clock_stalled),
                              self.player.output_lead)

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
            if self.audio is not None:
                self.audio.clock_message(message, t)

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
            state = self.player.state(now, self.output_name())
            if state != self.last_state:
                self.last_state = state
                self.report(state)
            self.flush_reports()
        if now >= self.next_port_check:
            self.check_ports(room)
            lost = self._jack_lost or not self.out_ok
            self.next_port_check = now + (LOST_CHECK_S if lost else PORT_CHECK_S)

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
            if self.link is not None:
                self.link.update(now)
                player.link_peers = self.link.peers
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
        self.close_link()
        self.close_in()
        self.set_audio("off")
        try:
            self.out.close()
        except Exception:
            pass


class _LinkPlayers:
    """The players Link drives: the engine's, and the sound card's shadow player
    (engine/audio.py), which must hear the session's start, stop, tempo and phase as
    the engine's player does. Reads go to the engine's player."""

    def __init__(self, loop: EngineLoop) -> None:
        self._loop = loop

    def __getattr__(self, name: str):
        return getattr(self._loop.player, name)

    def _both(self, name: str, *args) -> None:
        getattr(self._loop.player, name)(*args)
        audio = self._loop.audio
        if audio is not None:
            audio.apply(self._loop.clock(), lambda p: getattr(p, name)(*args))

    def follow_timeline(self, t: float, beat: float, tempo: float) -> None:
        self._both("follow_timeline", t, beat, tempo)

    def start_at_beat(self, origin: float) -> None:
        self._both("start_at_beat", origin)

    def stop(self, now: float) -> None:
        self._both("stop", now)

    def set_mode(self, mode: str, now: float) -> None:
        self._both("set_mode", mode, now)


def log_to(path: str | None) -> None:
    """Send this process's fd 2 (C libraries write there: JACK's "Cannot read socket
    fd", ALSA's complaints) to a log file, so nothing reaches the terminal the app
    draws on. The engine's own reports go through the pipe and are summarised there."""
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND
                     | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
    except OSError:
        pass


def _terminated(signum, frame) -> None:
    raise SystemExit(0)  # unwinds through main's finally: All Notes Off, ports closed


def main(conn: Connection, config: EngineConfig) -> None:
    """The engine process's entry point."""
    # Ctrl-C in a terminal reaches the whole process group: the owner decides when
    # the engine stops (Shutdown, or its pipe closing); SIGTERM stops it cleanly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    log_to(config.log_path)
    loop = EngineLoop(conn, config)
    try:
        if config.realtime:
            loop.realtime = make_realtime()
        loop.open_out()
        loop.set_audio(loop.audio_mode)
        if config.external:
            loop.player.set_mode("external", loop.clock())
            loop.open_in()
        elif config.link:
            loop.open_link(loop.clock())
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
