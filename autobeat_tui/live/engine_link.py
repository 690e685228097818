"""The engine under a session: started, fed, heard, and started again when it died.

``EngineLink`` is the one place both the app in its own process and the session host
keep the engine's life: ``started`` hands it the whole pattern, ``flush`` sends what
the session queued, ``poll`` takes its reports (``on_report``), ``died`` silences what
a killed engine left sounding and says so, ``for_command`` starts a new one on
``play``. What it has to tell goes to two callbacks: ``say`` for a line of the
session's own (a chain moving, no MIDI output), ``problem`` for a problem outside the
user's command (a port, the audio device, the clock, a dead engine), which the app
shows as a notification and the host passes to its clients as one.
No textual here: the host runs headless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autobeat_tui.live import language as lang
from autobeat_tui.live.latency import Latencies
from engine.messages import (
    AudioProblem,
    ClockProblem,
    EngineState,
    PatternSwapped,
    PortError,
    SetLatency,
    SetPattern,
    SetSwing,
    SetTempo,
)
from engine.messages import CommandError as EngineCommandError

STOPPED = "stopped"


def _drawn(state: EngineState) -> tuple:
    """What of the engine's state a screen shows."""
    return (state.playing, state.step, state.bar, state.tempo, state.output, state.locked,
            state.clock_lost, state.late_events, state.pending, state.fill, state.fill_bar,
            state.clock_info.peers, state.clock)


def _nothing() -> None:
    return None


class EngineLink:
    """The session's engine, as the app and the host both run it (see the module)."""

    def __init__(
        self,
        session: Any,
        engine: Any,
        latencies: Latencies,
        *,
        say: Callable[[str], None],
        problem: Callable[[str], None],
        changed: Callable[[], None] = _nothing,
        start_jobs: Callable[[], None] = _nothing,
    ) -> None:
        self.session = session
        self.engine = engine
        self.latencies = latencies
        self.say = say
        self.problem = problem
        self.changed = changed
        self.start_jobs = start_jobs  # the fills and variations the session planned
        self.ready = False  # started, and handed the pattern
        self.error = ""  # "stopped": it died or never started (play starts it again)
        self.output_error = False  # the MIDI output went away (until another one plays)
        self._told_no_output = False

    @property
    def status(self) -> str:
        """What the status line says of the engine: "starting", "playing" or "stopped"."""
        return self.error or ("playing" if self.ready else "starting")

    # --- its life ---------------------------------------------------------------------

    def start(self) -> bool:
        """Start the engine (here, at once) and hand it the pattern; False if it failed."""
        try:
            self.engine.start()
        except Exception as exc:  # noqa: BLE001 - any failure is said, the session runs on
            self.failed(f"engine did not start: {exc}")
            return False
        self.started()
        return True

    def started(self) -> None:
        """The engine runs: the whole pattern, its tempo and swing, then what waited."""
        self.ready = True
        pattern = self.session.pattern
        for command in (SetPattern(pattern, at="now"), SetTempo(pattern.tempo),
                        SetSwing(pattern.swing)):
            self.engine.send(command)
        self.flush()
        self.changed()

    def failed(self, message: str) -> None:
        self.error = STOPPED
        self.problem(message)
        self.changed()

    def died(self) -> None:
        """The engine process is gone (killed): silence what it may have left sounding
        on the output it used, say so, and let `play` start a new one."""
        silenced = False
        panic = getattr(self.engine, "panic", None)
        if panic is not None:
            try:
                silenced = panic(self.session.engine.output)
            except Exception:  # noqa: BLE001 - no MIDI system: nothing can sound either
                silenced = False
        self.session.playing = False
        note = "notes silenced" if silenced else "its output is gone with it"
        self.failed(f"engine stopped ({note}); play starts it again")

    def restart(self) -> bool:
        """Start a new engine after the last one died; False if it cannot start."""
        restart = getattr(self.engine, "restart", None)
        if restart is None:
            return False
        try:
            restart()
        except Exception as exc:  # noqa: BLE001 - said, the session runs on
            self.problem(f"engine did not start: {exc}")
            return False
        self.error = ""
        self.ready = False
        self.started()
        return True

    def for_command(self, cmd: lang.Command) -> None:
        """Before a command runs: `play` starts a new engine when the last one died."""
        if self.error and isinstance(cmd, lang.Play) and cmd.action != "stop":
            self.restart()

    # --- commands and reports ------------------------------------------------------------

    def flush(self) -> None:
        """Send what the session queued (kept while the engine starts or is gone)."""
        if not self.ready or self.error:
            return
        for command in self.session.take_outbox():
            try:
                self.engine.send(command)
            except Exception as exc:  # noqa: BLE001 - a dead pipe: said, the session runs on
                self.failed(f"engine: {exc}")
                return

    def send_latency(self, command: SetLatency | None) -> None:
        if command is not None:
            self.session.outbox.append(command)
            self.flush()

    def alive(self) -> bool:
        """Whether reports can come; a dead engine is found (and said) here, once."""
        if not self.ready or self.error:
            return False
        if not self.engine.alive:
            self.died()
            return False
        return True

    def poll(self, handle: Callable[[Any], None] | None = None) -> None:
        """Take the engine's reports: to ``handle`` (the app posts them as messages),
        else to ``on_report`` at once."""
        if not self.alive():
            return
        for report in self.engine.poll():
            (handle or self.on_report)(report)

    def on_report(self, report: Any) -> None:
        s = self.session
        if isinstance(report, EngineState):
            moved = _drawn(report) != _drawn(s.engine) or report.playing != s.playing
            if self.output_error and report.output not in (s.engine.output, "none"):
                self.output_error = False  # another output plays
                moved = True
            if report.output == "none" and not self._told_no_output:
                self._told_no_output = True
                self.say("no MIDI output: the beat plays silently (:out lists the ports)")
            if self.latencies.changed(report.output):
                self.send_latency(self.latencies.apply(report.output))
            for line in s.on_state(report):
                self.say(line)
                moved = True
            self.start_jobs()
            self.flush()
            if moved:
                self.changed()
        elif isinstance(report, PortError):
            self.output_error = True
            self.problem(f"MIDI: {report.message}")
            self.changed()
        elif isinstance(report, AudioProblem):
            self.problem(f"audio: {report.message}")
        elif isinstance(report, EngineCommandError):
            self.problem(f"engine: {report.message}")
        elif isinstance(report, ClockProblem):
            if report.message:
                self.problem(report.message)
            else:
                self.say("the clock input is fine again")
        elif isinstance(report, PatternSwapped):
            line = s.on_swapped(report.bar)
            if line:
                self.say(line)
            self.changed()
