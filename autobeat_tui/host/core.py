"""The host's session: what the app does with a command line, without a screen.

``HostCore`` owns the Session, the engine client and the model. ``run_line``
carries out one command line and returns its one-line answer; ``tick`` (called
about 60 times a second by the server) sends what the session queued, takes the
engine's reports and finished generations, and keeps the recovery files;
``snapshot`` is the whole state a client draws. Everything runs on the server's
thread except the model, which runs in a worker thread and hands its result over.
The engine's life and reports are ``EngineLink``'s (autobeat_tui/live/engine_link.py),
as in the app; what the host says is kept with its kind (autobeat_tui/live/said.py), so
an attached app shows a problem as a notification, as the app in its own process does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from autobeat_tui.host.recovery import Recovery, pattern_to_json
from autobeat_tui.live import language as lang
from autobeat_tui.live.engine_link import EngineLink
from autobeat_tui.live.latency import Latencies
from autobeat_tui.live.said import ERROR, PROBLEM, SAY, WARNING, Said
from autobeat_tui.live.session import GENERATING, GenRequest, Session
from codec.errors import CodecError
from patterns.bank import BankError
from patterns.grid import GROUPS, TRACKS
from patterns.kit import KitError
from patterns.pattern import PatternError

MAX_MESSAGES = 500
# the project's own errors: each is one line for the user (as in the app)
ERRORS_TO_REPORT = (lang.CommandError, BankError, CodecError, PatternError, KitError)


class HostCore:
    """A session that runs command lines headless and plays through its engine."""

    def __init__(
        self,
        session: Session,
        engine: Any,
        load_model: Callable[[], Any] | None = None,
        *,
        recovery: Recovery | None = None,
        settings: Any = None,
        latency_ms: float | None = None,
        list_outputs: Callable[[], list[str]] | None = None,
        kit_dir: str | None = None,
        startup_messages: tuple[str, ...] = (),
    ) -> None:
        self.session = session
        self._load_model = load_model
        self.model: Any = None
        self.model_status = "loading…" if load_model else "none"
        self._model_lock = threading.Lock()
        self._done: queue.SimpleQueue = queue.SimpleQueue()  # from worker threads
        self.recovery = recovery
        self.latencies = Latencies(settings, latency_ms)  # :latency, --latency
        self._list_outputs = list_outputs or (lambda: [])
        self.kit_dir = kit_dir
        self.messages: list[Said] = []
        self.message_count = 0  # every message said so far (clients show the new ones)
        self.changed = True  # something a client draws changed since the last snapshot
        self.wake: Callable[[], None] = lambda: None  # the server's: a worker finished
        self.link = EngineLink(session, engine, self.latencies, say=self.say,
                               problem=self.problem, changed=self._changed,
                               start_jobs=self.start_drum_jobs)
        for line in startup_messages:  # the app's startup warnings (bank, settings, kit)
            self.tell(Said(WARNING, line, title="bank"))

    @property
    def engine(self) -> Any:
        return self.link.engine

    # --- start and stop -------------------------------------------------------------

    def start(self) -> None:
        """Start the engine (its process) and the model load (a thread)."""
        self.link.start()
        if self._load_model is not None:
            threading.Thread(target=self._load_model_worker, name="model-load",
                             daemon=True).start()
        self.keep_recovery()

    def close(self) -> None:
        self.engine.stop()
        if self.model is not None and self._model_lock.acquire(timeout=10.0):
            try:
                self.model.close()
                self.model = None
            finally:
                self._model_lock.release()

    # --- feedback ---------------------------------------------------------------------

    def tell(self, said: Said) -> None:
        self.messages.append(said)
        self.message_count += 1
        del self.messages[:-MAX_MESSAGES]
        self.changed = True

    def say(self, text: str, error: bool = False, echo: str = "") -> None:
        """A line on the message line (red when `error`: a command refused)."""
        self.tell(Said(ERROR if error else SAY, text, echo))

    def problem(self, text: str) -> None:
        """A problem outside the user's command: a notification in every client."""
        self.tell(Said(PROBLEM, text))

    def _changed(self) -> None:
        self.changed = True

    # --- the engine ---------------------------------------------------------------------

    def flush(self) -> None:
        self.link.flush()

    def tick(self) -> None:
        """Engine reports, finished work, recovery: call often (about 60 times a second)."""
        while True:
            try:
                done = self._done.get_nowait()
            except queue.Empty:
                break
            done()
        self.link.poll()  # a dead engine is said here once; `play` starts a new one
        self.flush()
        self.keep_recovery()

    # --- recovery ---------------------------------------------------------------------------

    def keep_recovery(self) -> None:
        if self.recovery is None:
            return
        try:
            if self.recovery.keep(self.session):
                self.changed = True
        except (BankError, OSError, ValueError) as exc:  # a full disk: said once a change
            self.problem(f"recovery file: {exc}")

    # --- the model ---------------------------------------------------------------------------

    def _load_model_worker(self) -> None:
        try:
            with self._model_lock:
                model = self._load_model()
        except Exception as exc:  # noqa: BLE001 - ModelError and anything under it
            message = str(exc)

            def failed() -> None:
                self.model_status = "missing"
                self.problem(f"model: {message}")

            self._hand_over(failed)
            return

        def loaded() -> None:
            self.model = model
            self.model_status = getattr(model, "name", "ready")
            genres = tuple(getattr(model, "genres", ()) or ())
            if genres:
                self.session.genres = genres
            self.changed = True

        self._hand_over(loaded)

    def _hand_over(self, done: Callable[[], None]) -> None:
        self._done.put(done)
        self.wake()

    def generate(self, cmd: lang.Gen | lang.Mutate) -> str:
        if self.model is None:
            what = "still loading" if self.model_status == "loading…" else "not available"
            raise lang.CommandError(f"the model is {what}; generation is off until it loads")
        request = self.session.gen_request(cmd)
        threading.Thread(target=self._generate_worker, args=(request,), name="generate",
                         daemon=True).start()
        names = ", ".join(GROUPS[g - 1].name for g in request.groups)
        verb = "mutating" if request.kind == "mutate" else "generating"
        return f"{verb} {names} (seed {request.seed})"

    def _generate_worker(self, request: GenRequest) -> None:
        from autobeat_tui.live.model_jobs import background_priority, run_model

        background_priority()
        with self._model_lock:
            if request.id != self.session.latest_request:
                return
            try:
                result = run_model(self.model, request)
            except Exception as exc:  # noqa: BLE001 - said, the host keeps running
                message = str(exc)

                def failed() -> None:
                    self.session.generation_failed(request)
                    self.problem(f"generation failed: {message}")

                self._hand_over(failed)
                return

        def finished() -> None:
            if self.session.apply_generated(request, result, self.model_status):
                self.flush()
                verb = "mutated" if request.kind == "mutate" else "generated"
                self.say(f"{verb} " + ", ".join(GROUPS[g - 1].name for g in request.groups))
            self.changed = True

        self._hand_over(finished)

    # --- fills and variations (a session with a drummer: autobeat_tui/live/drummer.py) ----

    def fill(self) -> str:
        if self.model is None:
            what = "still loading" if self.model_status == "loading…" else "not available"
            raise lang.CommandError(f"fill: the model is {what}; the groove plays on")
        self._start_drum(self.session.arm_fill())
        return "fill armed: the model is writing it for the next bar"

    def start_drum_jobs(self) -> None:
        """Start the phrase fills and variations the session planned (with a model)."""
        take = getattr(self.session, "take_jobs", None)
        if take is None:
            return
        jobs = take()
        if self.model is None:
            return
        for job in jobs:
            self._start_drum(job)

    def _start_drum(self, job: Any) -> None:
        threading.Thread(target=self._drum_worker, args=(job,), name="drum",
                         daemon=True).start()

    def _drum_worker(self, job: Any) -> None:
        from autobeat_tui.live.drummer import run_job

        with self._model_lock:  # at the host's own priority: late is worse than slow
            if self.model is None:
                return
            try:
                result = run_job(self.model, job)
            except Exception as exc:  # noqa: BLE001 - said, the groove plays on
                message = str(exc)

                def failed() -> None:
                    self.session.drummer.failed(job)
                    self.problem(f"{job.kind} failed: {message}; the groove plays on")

                self._hand_over(failed)
                return

        def ready() -> None:
            line = self.session.fill_ready(job, result)
            self.flush()
            if line:
                self.say(line)
            self.changed = True

        self._hand_over(ready)

    @property
    def generating(self) -> bool:
        return GENERATING in self.session.lane_state.values()

    # --- commands -----------------------------------------------------------------------

    def run_line(self, line: str, cursor: tuple[int, int] | None = None) -> tuple[bool, str]:
        """Carry out one command line: (done, the one line the app would show)."""
        s = self.session
        if cursor is not None:  # the client's cursor, and so its selected group
            s.cursor_track, s.cursor_step = cursor
            s.selected = TRACKS[s.cursor_track - 1].group
        echo = f"› {line}  → "
        try:
            cmd = lang.parse(line, s.genres)
            self.link.for_command(cmd)  # play: a new engine when the last one died
            said = self.execute(cmd)
        except ERRORS_TO_REPORT as exc:
            self.say(str(exc), error=True, echo=echo)
            return False, str(exc)
        self.flush()
        self.keep_recovery()
        self.changed = True
        said = said or "ok"
        self.say(said, echo=echo)
        return True, said

    def execute(self, cmd: lang.Command) -> str | None:
        if isinstance(cmd, lang.Gen | lang.Mutate):
            return self.generate(cmd)
        if isinstance(cmd, lang.Help):
            if cmd.topic:
                return lang.USAGE[cmd.topic]
            return "commands: " + ", ".join(sorted(lang.USAGE))
        if isinstance(cmd, lang.Quit):
            raise lang.CommandError("quit: the host keeps playing; `autobeat stop` stops it")
        if isinstance(cmd, lang.Messages):
            return " | ".join(m.line for m in self.messages[-10:]) or "no messages"
        if isinstance(cmd, lang.Clock) and cmd.mode is None:
            from autobeat_tui.live.clockview import describe_clock

            return describe_clock(self.session.engine, self.session.clock_mode)
        if isinstance(cmd, lang.Latency):
            return self.latency(cmd)
        if isinstance(cmd, lang.Render):
            return self.render(cmd)
        kind = type(cmd).__name__  # the drummer's commands, where the language has them
        if kind == "Fill":
            return self.fill()
        if kind in ("Phrase", "Vary"):
            said = self.session.run(cmd)
            self.start_drum_jobs()
            return said
        if isinstance(cmd, lang.Out) and cmd.name is None:
            return self.session.describe_outputs(self._list_outputs)
        return self.session.run(cmd)

    def latency(self, cmd: lang.Latency) -> str:
        said, command = self.latencies.command(cmd, self.session.engine.output)
        self.link.send_latency(command)
        return said

    def render(self, cmd: lang.Render) -> str:
        from pathlib import Path

        pattern, mutes, solos = self.session.render_source(cmd.slot)
        path = str(Path(cmd.path).expanduser())

        def work() -> None:
            from engine.render import render_elsewhere

            try:
                said, problems = render_elsewhere(pattern, path, cmd.bars, self.kit_dir,
                                                  mutes, solos)
            except Exception as exc:  # noqa: BLE001 - RenderError, or the process failed
                text = f"render: {exc}"
                self._hand_over(lambda: self.say(text, error=True))
                return
            for line in problems:
                self._hand_over(lambda line=line: self.say(f"render: {line}", error=True))
            self._hand_over(lambda: self.say(said))

        threading.Thread(target=work, name="render", daemon=True).start()
        return f"rendering {cmd.slot or 'the pattern'} ({cmd.bars} bars) to {path}…"

    # --- the state clients draw -------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the app's screen shows, as JSON values (derived here, in one place)."""
        s = self.session
        state = s.engine
        undo, redo = s.history.depth
        return {
            "pattern": pattern_to_json(s.pattern),
            "slot": s.slot,
            "filled": s.filled_slots(),
            "queued": s.queued[0] if s.queued else "",
            "chain": s.chain.describe() if s.chain else "",
            "tempo": s.tempo,
            "playing": state.playing,
            "step": state.step,
            "bar": state.bar,
            "engine_tempo": state.tempo,
            "output": state.output,
            "output_error": self.link.output_error,
            "peers": state.clock_info.peers or 0,
            "late_events": state.late_events,
            "clock": s.clock_mode,
            "locked": state.locked,
            "clock_lost": state.clock_lost,
            "selected": s.selected,
            "cursor": [s.cursor_track, s.cursor_step],
            "mutes": sorted(s.mutes),
            "solos": sorted(s.solos),
            "lanes": {str(g): v for g, v in s.lane_state.items()},
            "amount": s.amount,
            "undo": [undo, redo],
            "model": self.model_status,
            "engine": self.link.status,
            "bank": str(s.bank_path) if s.bank_path else "",
            "read_only": not s.bank_writable,
            "fill": s.fill_state() if hasattr(s, "fill_state") else "",
            "messages": [m.to_json() for m in self.messages[-50:]],
            "message_count": self.message_count,
            "genres": list(s.genres),
        }
