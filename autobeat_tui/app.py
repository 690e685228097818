"""The terminal app: four lanes on a 12-track grid, hotkeys, a command line.

The app is the glue: the session (autobeat_tui/live) holds what is edited and what
each action sends; the engine (a separate process) plays it; the model runs in a
worker thread. This module wires them to the widgets and keeps nothing else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import RichLog, Static

from autobeat_tui.hotkeys import HOTKEYS
from autobeat_tui.live import language as lang
from autobeat_tui.live.completion import CompletionContext
from autobeat_tui.live.drummer import DrumJob, run_job
from autobeat_tui.live.engine_link import EngineLink
from autobeat_tui.live.latency import Latencies
from autobeat_tui.live.model_jobs import background_priority, run_model
from autobeat_tui.live.session import GENERATING, GenRequest, Session
from autobeat_tui.screens.help import HelpScreen
from autobeat_tui.screens.messages import MessagesScreen
from autobeat_tui.screens.scrolling import ScrollingScreen
from autobeat_tui.widgets.command_line import CommandLine, MessageLine
from autobeat_tui.widgets.key_bar import KeyBar
from autobeat_tui.widgets.lane import Lane, LaneView
from autobeat_tui.widgets.layout import grid_layout
from autobeat_tui.widgets.ruler import Ruler
from autobeat_tui.widgets.slot_strip import SlotStrip, SlotView
from autobeat_tui.widgets.status_line import StatusLine, StatusView
from codec.errors import CodecError
from patterns.bank import BankError
from patterns.grid import GROUPS, STEPS, TRACKS
from patterns.kit import KitError
from patterns.pattern import PatternError

if TYPE_CHECKING:
    from models.runner import BeatWriter

POLL_HZ = 60
# the smallest terminal the whole grid fits in: 12 tracks, 4 lane headers, the status
# line, the slot strip, the message line, the command line, the ruler and the key bar
MIN_COLUMNS = grid_layout(0).width  # 48: one column a step
MIN_ROWS = len(TRACKS) + len(GROUPS) + 6  # 22; 20 with the ruler and key bar folded
TOO_SMALL = (
    f"AutoBeat needs a terminal of at least {MIN_COLUMNS} columns and {MIN_ROWS - 2} rows "
    f"({MIN_COLUMNS}x{MIN_ROWS - 2}); 80x24 shows it all. Make the window bigger."
)
MAX_MESSAGES = 500  # kept for :messages
TOAST_S = 8.0
# the hotkeys that act on the grid: not while a page (help, messages) covers it
GRID_ACTIONS = frozenset({
    "cursor", "cursor_group", "toggle_hit", "clear_hit", "velocity", "mute_cursor",
    "solo_cursor",
})
# The project's own errors: each is one line for the user. Anything else is a bug and
# shows as one (a traceback), not as a message that hides it.
ERRORS_TO_REPORT = (lang.CommandError, BankError, CodecError, PatternError, KitError)


@dataclass
class ModelStatus:
    text: str = "loading…"
    error: bool = False


class EngineReported(Message):
    """A report from the engine (EngineState, PortError, PatternSwapped)."""

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report


class Generated(Message):
    def __init__(self, request: GenRequest, result: Any, error: str = "") -> None:
        super().__init__()
        self.request = request
        self.result = result
        self.error = error


class DrumJobDone(Message):
    """A fill or variation the model wrote (autobeat_tui/live/drummer.py)."""

    def __init__(self, job: DrumJob, result: Any, error: str = "") -> None:
        super().__init__()
        self.job = job
        self.result = result
        self.error = error


class AutoBeatApp(App):
    """AutoBeat: `engine` plays, `load_model()` returns the beat model (in a thread)."""

    TITLE = "AutoBeat"
    AUTO_FOCUS = None  # the grid has the keys; ':' gives them to the command line
    BINDINGS = HOTKEYS
    # Under MIN_ROWS the key bar, the ruler, the console and a chain's line under the slots
    # fold away (the grid stays whole; while playing, the status line shows the slot
    # queued next); under MIN_ROWS - 2 rows or MIN_COLUMNS columns a notice says what
    # size is needed.
    VERTICAL_BREAKPOINTS = [
        (0, "-too-short"), (MIN_ROWS - 2, "-fold"), (MIN_ROWS, "-short"), (30, "-tall")
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (MIN_COLUMNS, "-wide-enough")]
    CSS = """
    #lanes { height: auto; }
    .-tall Lane { margin-top: 1; }
    .-fold KeyBar, .-fold Ruler, .-fold #console { display: none; }
    .-fold SlotStrip { height: 1; }
    #too-small {
        display: none; dock: top; width: 100%; height: 100%;
        content-align: center middle; text-align: center; background: $background;
    }
    .-too-short #too-small, .-too-narrow #too-small { display: block; }
    #console {
        height: 1fr; min-height: 0; scrollbar-size: 0 0;
        background: $background; color: $text-muted;
    }
    #bottom { dock: bottom; height: auto; }
    StatusLine { dock: top; }
    """

    def __init__(
        self,
        session: Session,
        engine: Any,
        load_model: Callable[[], BeatWriter] | None = None,
        *,
        bank_label: str = "",
        startup_errors: Sequence[str] = (),
        list_outputs: Callable[[], list[str]] | None = None,
        list_inputs: Callable[[], list[str]] | None = None,
        poll_hz: float = POLL_HZ,
        start_engine: bool = True,
        settings: Any = None,
        latency_ms: float | None = None,
        kit_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._load_model = load_model
        self.model: BeatWriter | None = None
        self.model_status = ModelStatus("loading…" if load_model else "none", load_model is None)
        self._model_lock = threading.Lock()  # one thread uses the model at a time
        self.bank_label = bank_label
        self._startup_errors = list(startup_errors)
        self._list_outputs = list_outputs or (lambda: [])
        self._list_inputs = list_inputs or (lambda: [])
        self._poll_hz = poll_hz
        self._start_engine = start_engine
        self.kit_dir = kit_dir  # the sounds `render` uses (None: the built-in kit)
        self.first_frame_at: float | None = None
        self._views_ready = False  # the widgets are mounted (views can be derived)
        self.messages: list[str] = []  # every message, whole (:messages)
        self._on_message_line = ""  # the console form of what the message line shows
        self.latencies = Latencies(settings, latency_ms)  # :latency, --latency
        self.link = EngineLink(session, engine, self.latencies, say=self.say,
                               problem=self.report_error, start_jobs=self.start_drum_jobs)
        self._quit_asked = False  # ^q with unsaved edits asked once already

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(TOO_SMALL, id="too-small")
        yield StatusLine()
        yield Ruler()

        with Vertical(id="lanes"):
            for g in GROUPS:
                yield Lane(g.number)
        yield SlotStrip()
        console = RichLog(id="console", max_lines=500, wrap=False, markup=False)
        console.can_focus = False
        yield console
        with Vertical(id="bottom"):
            yield MessageLine(id="message")
            yield CommandLine(context=self.completion_context, id="command")
            yield KeyBar()

    def on_mount(self) -> None:
        self._views_ready = True
        self.derive_views()
        self.set_interval(1 / self._poll_hz, self._tick, name="engine-poll")
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        if self.first_frame_at is not None:
            return  # once: Textual may run an after-refresh callback twice around a resize
        self.first_frame_at = time.monotonic()
        if self._start_engine:
            self._start_engine_worker()
        else:
            self.link.started()
        if self._load_model is not None:
            self._load_model_worker()
        for message in self._startup_errors:
            self.report_error(message, title="bank", severity="warning")

    # --- the engine (autobeat_tui/live/engine_link.py: as the session host runs it) -------

    @property
    def engine(self) -> Any:
        return self.link.engine

    @engine.setter
    def engine(self, engine: Any) -> None:
        self.link.engine = engine

    @property
    def engine_ready(self) -> bool:
        return self.link.ready

    @property
    def engine_error(self) -> str:
        return self.link.error

    @property
    def output_error(self) -> bool:
        return self.link.output_error

    @work(thread=True, exit_on_error=False, group="engine")
    def _start_engine_worker(self) -> None:
        try:
            self.engine.start()
        except Exception as exc:  # noqa: BLE001 - any failure is shown, the app keeps running
            self.call_from_thread(self.link.failed, f"engine did not start: {exc}")
            return
        self.call_from_thread(self.link.started)

    def flush(self) -> None:
        """Send what the session queued (kept until the engine has started)."""
        self.link.flush()

    def _tick(self) -> None:
        """The poll timer: the engine's reports come in as messages; the screen follows
        the state (derive_views: on each tick, and whenever the app is idle)."""
        self.link.poll(lambda report: self.post_message(EngineReported(report)))
        self.derive_views()

    def on_engine_reported(self, message: EngineReported) -> None:
        self.link.on_report(message.report)

    # --- the model ------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="model-load")
    def _load_model_worker(self) -> None:
        assert self._load_model is not None
        background_priority()
        try:
            with self._model_lock:
                model = self._load_model()
        except Exception as exc:  # noqa: BLE001 - ModelError and anything under it
            self.call_from_thread(self._model_failed, str(exc))
            return
        self.call_from_thread(self._model_loaded, model)

    def _model_loaded(self, model: BeatWriter) -> None:
        self.model = model
        self.model_status = ModelStatus(getattr(model, "name", "ready"))
        genres = tuple(getattr(model, "genres", ()) or ())
        if genres:
            self.session.genres = genres

    def close_model(self, timeout: float = 10.0) -> None:
        """Close the model once no worker uses it (a generation may still be finishing)."""
        if self.model is None:
            return
        if self._model_lock.acquire(timeout=timeout):
            try:
                self.model.close()
                self.model = None
            finally:
                self._model_lock.release()

    def _model_failed(self, message: str) -> None:
        self.model_status = ModelStatus("missing", True)
        self.report_error(f"model: {message}")

    def _need_model(self, then: str) -> None:
        """CommandError (one line) when there is no model yet, or none to be had."""
        if self.model is None:
            what = "still loading" if not self.model_status.error else "not available"
            raise lang.CommandError(f"the model is {what}; {then}")

    def generate(self, cmd: lang.Gen | lang.Mutate) -> str:
        self._need_model("generation is off until it loads")
        request = self.session.gen_request(cmd)
        self._generate_worker(request)
        names = ", ".join(GROUPS[g - 1].name for g in request.groups)
        verb = "mutating" if request.kind == "mutate" else "generating"
        return f"{verb} {names} (seed {request.seed})"

    @work(thread=True, exclusive=True, exit_on_error=False, group="model")
    def _generate_worker(self, request: GenRequest) -> None:
        background_priority()
        with self._model_lock:
            if request.id != self.session.latest_request:
                return  # a newer request replaced this one while it waited
            try:
                result = run_model(self.model, request)
            except Exception as exc:  # noqa: BLE001 - shown to the user, the app keeps running
                self.post_message(Generated(request, None, str(exc)))
                return
        self.post_message(Generated(request, result))

    def on_generated(self, message: Generated) -> None:
        request = message.request
        if message.error:
            self.session.generation_failed(request)
            self.report_error(f"generation failed: {message.error}")
        elif self.session.apply_generated(request, message.result, self.model_status.text):
            self.flush()
            self.say(
                f"{'mutated' if request.kind == 'mutate' else 'generated'} "
                + ", ".join(GROUPS[g - 1].name for g in request.groups)
            )

    # --- rendering --------------------------------------------------------------------------

    def render(self, cmd: lang.Render) -> str:
        """Render to a WAV file in a process of its own (the app never mixes audio)."""
        pattern, mutes, solos = self.session.render_source(cmd.slot)
        path = str(Path(cmd.path).expanduser())
        self._render_worker(pattern, path, cmd.bars, mutes, solos)
        return f"rendering {cmd.slot or 'the pattern'} ({cmd.bars} bars) to {path}…"

    @work(thread=True, exit_on_error=False, group="render")
    def _render_worker(self, pattern, path: str, bars: int, mutes, solos) -> None:
        from engine.render import render_elsewhere

        try:
            said, problems = render_elsewhere(pattern, path, bars, self.kit_dir, mutes, solos)
        except Exception as exc:  # noqa: BLE001 - RenderError, or the process failed
            self.call_from_thread(self.say, f"render: {exc}", True)
            return
        for line in problems:
            self.call_from_thread(self.say, f"render: {line}", True)
        self.call_from_thread(self.say, said)

    # --- fills and variations -----------------------------------------------------------

    def fill(self) -> str:
        try:
            self._need_model("the groove plays on")
        except lang.CommandError as exc:
            raise lang.CommandError(f"fill: {exc}") from None
        job = self.session.arm_fill()
        self._drum_worker(job)
        return "fill armed: the model is writing it for the next bar"

    def start_drum_jobs(self) -> None:
        """Start the phrase fills and variations the session planned (when a model is
        loaded; without one the groove plays on)."""
        jobs = self.session.take_jobs()
        if self.model is None:
            return
        for job in jobs:
            self._drum_worker(job)

    @work(thread=True, exit_on_error=False, group="drum")
    def _drum_worker(self, job: DrumJob) -> None:
        # at the app's own priority, unlike a generation: a fill is short (about 0.15 s)
        # and late is worse than a screen a moment slower
        with self._model_lock:  # one thread uses the model at a time
            if self.model is None:
                return
            try:
                result = run_job(self.model, job)
            except Exception as exc:  # noqa: BLE001 - shown to the user, the groove plays on
                self.post_message(DrumJobDone(job, None, str(exc)))
                return
        self.post_message(DrumJobDone(job, result))

    def on_drum_job_done(self, message: DrumJobDone) -> None:
        job = message.job
        if message.error:
            self.session.drummer.failed(job)
            self.report_error(f"{job.kind} failed: {message.error}; the groove plays on")
        else:
            line = self.session.fill_ready(job, message.result)
            self.flush()
            if line:
                self.say(line)

    # --- commands -----------------------------------------------------------------------

    def run_line(self, line: str, typed: bool = False) -> bool:
        """Run one command line; False (and nothing changed) when it is refused.

        A typed line goes to the console with its answer (``bpm 124 → tempo 124 BPM``).
        """
        echo = f"› {line}  → " if typed else ""
        try:
            cmd = lang.parse(line, self.session.genres)
            said = self.execute(cmd)
        except ERRORS_TO_REPORT as exc:
            self.say(str(exc), error=True, echo=echo)
            return False
        self.flush()
        if said or echo:
            self.say(said or "ok", echo=echo)
        return True

    def execute(self, cmd: lang.Command) -> str | None:
        self.link.for_command(cmd)  # play: a new engine when the last one died
        if isinstance(cmd, lang.Gen | lang.Mutate):
            return self.generate(cmd)
        if isinstance(cmd, lang.Fill):
            return self.fill()
        if isinstance(cmd, lang.Help):
            if cmd.topic:
                return lang.USAGE[cmd.topic]
            self.action_help()
            return None
        if isinstance(cmd, lang.Quit):
            self.request_quit()
            return None
        if isinstance(cmd, lang.Messages):
            self.push_screen(MessagesScreen(self.messages))
            return None
        if isinstance(cmd, lang.Clock) and cmd.mode is None:
            from autobeat_tui.live.clockview import describe_clock

            return describe_clock(self.session.engine, self.session.clock_mode)
        if isinstance(cmd, lang.Latency):
            return self.latency(cmd)
        if isinstance(cmd, lang.Render):
            return self.render(cmd)
        if isinstance(cmd, lang.Phrase | lang.Vary):
            said = self.session.run(cmd)
            self.start_drum_jobs()
            return said
        if isinstance(cmd, lang.Out) and cmd.name is None:
            return self.session.describe_outputs(self._list_outputs)
        return self.session.run(cmd)  # BankError, CodecError: reported by run_line

    # --- latency offsets ---------------------------------------------------------------

    def latency(self, cmd: lang.Latency) -> str:
        """`:latency [PORT] MS`: keep an offset for an output; no MS: list them."""
        said, command = self.latencies.command(cmd, self.session.engine.output)
        self.link.send_latency(command)
        return said

    def on_command_line_run(self, message: CommandLine.Run) -> None:
        if not message.line:
            self.set_focus(None)
            return
        command_line = self.query_one(CommandLine)
        if self.run_line(message.line, typed=True):
            command_line.value = ""
            command_line.screen.set_focus(None)  # back to the grid (under help, too)

    async def on_event(self, event: events.Event) -> None:
        is_input = isinstance(event, events.Key | events.Paste) and bool(self.screen_stack)
        on_grid = is_input and self.focused is None and not isinstance(self.screen, HelpScreen)
        if on_grid and isinstance(event, events.Key) and event.key == "colon":
            # Focus now, before the keys already queued behind ':' are forwarded, so a
            # fast typist (or a script) does not lose the first letters to the hotkeys.
            self.action_command_line()
            return
        if on_grid and isinstance(event, events.Paste):
            self.paste_commands(event.text)
            return
        await super().on_event(event)

    def paste_commands(self, text: str) -> None:
        """Text pasted (or typed in one burst) on the grid: each full line runs as a command
        (a leading ':' is dropped), a last line without a newline waits in the command line."""
        *lines, rest = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for line in lines:
            line = line.strip().removeprefix(":").strip()
            if line:
                self.query_one(CommandLine).remember(line)
                if not self.run_line(line, typed=True):
                    break
        rest = rest.lstrip().removeprefix(":")
        if rest:
            command_line = self.query_one(CommandLine)
            command_line.value = rest
            command_line.cursor_position = len(rest)
            self.set_focus(command_line)

    def on_lane_clicked(self, message: Lane.Clicked) -> None:
        """The mouse: a header selects its group, a cell moves the cursor and toggles it."""
        if message.track is None:
            self.run_line(f"group {message.group}")
            return
        self.session.select(message.group)
        self.session.cursor_track = message.track
        if message.step is not None:
            self.session.cursor_step = message.step
            self.action_toggle_hit()

    def on_command_line_options(self, message: CommandLine.Options) -> None:
        self.query_one(MessageLine).say(message.text)

    def completion_context(self) -> CompletionContext:
        return CompletionContext(
            genres=self.session.genres,
            filled_slots=tuple(self.session.filled_slots()),
            outputs=tuple(self._safe(self._list_outputs)),
            inputs=tuple(self._safe(self._list_inputs)),
            literals=self.session.literals(),
        )

    @staticmethod
    def _safe(fn: Callable[[], list[str]]) -> list[str]:
        try:
            return list(fn())
        except Exception:  # noqa: BLE001 - no MIDI system: nothing to offer
            return []

    # --- actions (the hotkeys) ---------------------------------------------------------------

    def action_cmd(self, line: str) -> None:
        self.run_line(line)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in GRID_ACTIONS and isinstance(self.screen, ScrollingScreen):
            return False  # the page's own keys scroll it; the grid behind it stays put
        return True

    def action_command_line(self) -> None:
        # at once, not scheduled: the keys typed right after ':' belong to the line
        self.set_focus(self.query_one(CommandLine))

    def action_play_stop(self) -> None:
        self.run_line("stop" if self.session.playing else "play")

    def action_cursor(self, tracks: int, steps: int) -> None:
        self.session.move_cursor(tracks, steps)

    def action_cursor_group(self, direction: int) -> None:
        if isinstance(self.focused, CommandLine):  # tab completes there
            if direction > 0:
                self.focused.action_complete()
            return
        if self.focused is not None:
            return
        group = (self.session.selected - 1 + direction) % len(GROUPS) + 1
        self.run_line(f"group {group}")
        self.session.cursor_track = GROUPS[group - 1].tracks[0]

    def _cell(self) -> tuple[str, int]:
        return TRACKS[self.session.cursor_track - 1].name, self.session.cursor_step + 1

    def action_toggle_hit(self) -> None:
        track, step = self._cell()
        has = self.session.pattern.at(step - 1, self.session.cursor_track) is not None
        self.run_line(f"clear {track} {step}" if has else f"hit {track} {step} 100")

    def action_clear_hit(self) -> None:
        track, step = self._cell()
        self.run_line(f"clear {track} {step}")

    def action_velocity(self, delta: int) -> None:
        track, step = self._cell()
        if self.session.pattern.at(step - 1, self.session.cursor_track) is None:
            self.run_line(f"hit {track} {step} {max(1, 50 + delta)}")
        else:
            self.run_line(f"vel {track} {step} {delta:+d}")

    def action_cond_cursor(self, direction: int = 1) -> None:
        track, step = self._cell()
        self.run_line(f"cond {track} {step} {'next' if direction > 0 else 'prev'}")

    def action_mute_cursor(self) -> None:
        self.run_line(f"mute {self._cell()[0]}")

    def action_solo_cursor(self) -> None:
        self.run_line(f"solo {self._cell()[0]}")

    # --- feedback -------------------------------------------------------------------------------

    def say(self, text: str, error: bool = False, echo: str = "") -> None:
        """Show a message once: on the message line; the one it replaces moves up into
        the console, so no line is on screen twice. Each is kept whole for :messages."""
        line = echo + ("✗ " if error else "") + text
        self.query_one(MessageLine).say(text, error)
        if self._on_message_line:
            self._console(self._on_message_line)
        self._on_message_line = line
        self._log(line)

    def _log(self, line: str) -> None:
        self.messages.append(line)
        del self.messages[:-MAX_MESSAGES]

    def _console(self, text: str) -> None:
        self.query_one("#console", RichLog).write(text)

    def report_error(
        self, message: str, title: str = "AutoBeat", severity: SeverityLevel = "error"
    ) -> None:
        """A problem outside the user's command (port, model, bank): a notification,
        whole and wrapped; when it closes, the line settles in the console."""
        line = ("✗ " if severity == "error" else "! ") + message
        self.notify(message, title=title, severity=severity, timeout=TOAST_S)
        self._log(line)
        self.set_timer(TOAST_S, lambda: self._console(line))

    # --- drawing ---------------------------------------------------------------------------------

    def on_idle(self) -> None:
        """Whatever changed the state (a key, a command, an engine report, a finished
        generation, a host's snapshot), the screen follows once the app has handled it."""
        self.derive_views()

    def derive_views(self) -> None:
        """The one place the screen comes from: every widget's view, derived from the
        state after each handled message (on_idle) and on each poll tick; unchanged views
        do not redraw, and deriving them all takes about 0.1 ms."""
        if not self._views_ready or self._exit:
            return  # idle before the widgets are there, or after they went
        try:
            ruler, status, slots = (self.query_one(Ruler), self.query_one(StatusLine),
                                    self.query_one(SlotStrip))
        except NoMatches:  # the screen is being torn down
            return
        s = self.session
        state = s.engine
        playhead = state.step if state.playing and 0 <= state.step < STEPS else None
        pattern = s.pattern
        for lane in self.query(Lane):
            g = lane.group
            cursor = (
                (s.cursor_track, s.cursor_step) if TRACKS[s.cursor_track - 1].group == g else None
            )
            lane.view = LaneView(
                g,
                pattern.group_events(g),
                pattern.group_params(g),
                s.lane_state[g],
                s.selected == g,
                frozenset(s.mutes),
                frozenset(s.solos),
                playhead,
                cursor,
                tuple(c for c in pattern.conditions if TRACKS[c[0][1] - 1].group == g),
            )
        ruler.playhead = playhead
        status.view = StatusView(
            bank=self.bank_label,
            read_only=not s.bank_writable,
            slot=s.slot,
            tempo=state.tempo if s.clock_mode in ("follow", "link") else pattern.tempo,
            own_tempo=pattern.own_tempo,
            peers=state.clock_info.peers or 0,
            swing=pattern.swing,
            playing=state.playing,
            clock=s.clock_mode,
            locked=state.locked,
            clock_lost=state.clock_lost,
            output=state.output,
            output_error=self.output_error,
            model=self.model_status.text,
            model_error=self.model_status.error,
            engine_error=self.engine_error
            if self.engine_ready or self.engine_error
            else "starting",
            queued=s.queued[0] if s.queued else "",
            fill=s.fill_state(),
            phrase=pattern.phrase,
            vary=pattern.vary,
        )
        slots.view = SlotView(
            slot=s.slot,
            filled=frozenset(s.filled_slots()),
            queued=s.queued[0] if s.queued else "",
            chain=s.chain.describe() if s.chain else "",
            mutate_amount=s.amount,
            undo=s.history.depth,
        )

    @property
    def generating(self) -> bool:
        return GENERATING in self.session.lane_state.values()

    async def action_quit(self) -> None:
        self.request_quit()

    def request_quit(self) -> None:
        """Quit; with unsaved edits, ask first (a second ^q quits) and keep them in the
        recovery file either way, so nothing is lost."""
        s = self.session
        if not s.unsaved():
            s.drop_recovery()
            self.exit()
            return
        try:
            kept = s.keep_recovery()
        except ValueError as exc:  # FileError: the recovery file cannot be written
            if not self._quit_asked:
                self._quit_asked = True
                self.say(f"unsaved changes in {s.slot}, and {exc}; w saves them, "
                         "^q again quits without them", error=True)
                return
            self.exit()
            return
        if not self._quit_asked:
            self._quit_asked = True
            where = f" (kept in {kept.name} meanwhile)" if kept is not None else ""
            self.say(f"unsaved changes in {s.slot}{where}: w saves them, ^q again quits")
            return
        self.exit()


def bank_label(path: Path | None) -> str:
    return path.name if path is not None else ""
