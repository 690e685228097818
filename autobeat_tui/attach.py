"""The app attached to a session host: it draws the host's state and sends it lines.

``AttachedApp`` is the terminal app (the same screen, keys and command line) with the
session in another process: each command line, hotkey and click goes to the host as
a line (with the cursor), and the screen is derived in one place, ``apply_snapshot``,
from the snapshots the host pushes. Ctrl+Q detaches (the music plays on); ``:quit``
asks whether to stop the music; ``:quit!`` stops the host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from autobeat_tui.app import TOAST_S, AutoBeatApp, ModelStatus
from autobeat_tui.host.client import HostClient, HostUnavailable
from autobeat_tui.host.recovery import pattern_from_json
from autobeat_tui.live.history import History
from autobeat_tui.live.said import ERROR, NOTIFIED, PROBLEM, Said
from autobeat_tui.live.session import Session
from autobeat_tui.screens.messages import MessagesScreen
from engine.messages import ClockInfo, EngineState
from patterns.pattern import Pattern

DETACHED, STOPPED, HOST_GONE = "detached", "stopped", "host gone"


class _MirrorHistory(History):
    """The host's pattern, and its undo depth as the host reports it."""

    depth = (0, 0)  # shadows History.depth: set from the snapshot


class _Chain:
    def __init__(self, text: str) -> None:
        self.text = text

    def describe(self) -> str:
        return self.text


class _NoEngine:
    """The engine runs under the host: nothing to start, send or poll here."""

    alive = True

    def start(self) -> None: ...

    def send(self, command) -> None: ...

    def poll(self) -> list:
        return []

    def stop(self) -> None: ...


def apply_snapshot(session: Session, state: dict[str, Any]) -> None:
    """Make the local mirror session show the host's state (the cursor stays this
    terminal's own). The one place an attached screen's state comes from."""
    history = session.history
    assert isinstance(history, _MirrorHistory)
    history.replace(pattern_from_json(state["pattern"]))
    history.depth = tuple(state["undo"])
    session.slot = state["slot"]
    filled = list(state["filled"])
    session.filled_slots = lambda: filled  # type: ignore[method-assign]
    session.queued = (state["queued"], Pattern()) if state["queued"] else None
    session.chain = _Chain(state["chain"]) if state["chain"] else None
    session.tempo = state["tempo"]
    session.clock_mode = state["clock"]
    session.mutes = set(state["mutes"])
    session.solos = set(state["solos"])
    session.lane_state = {int(g): v for g, v in state["lanes"].items()}
    session.amount = state["amount"]
    session.bank_writable = not state["read_only"]
    session.genres = tuple(state["genres"])
    session.engine = EngineState(
        playing=state["playing"], step=state["step"], bar=state["bar"],
        tempo=state["engine_tempo"], clock=state["clock"], locked=state["locked"],
        clock_lost=state["clock_lost"], output=state["output"],
        late_events=state["late_events"], clock_info=ClockInfo(peers=state.get("peers") or None),
    )
    session.playing = state["playing"]
    if hasattr(session, "fill_state"):  # the drummer's state, as the host has it
        fill = state.get("fill", "")
        session.fill_state = lambda: fill  # type: ignore[method-assign]


class HostNotStarted(HostUnavailable):
    """The host started for this app did not come up (its last line says why)."""


class StateArrived(Message):
    """A snapshot waits in the app's slot (only the newest is drawn)."""


class HostGone(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class QuitScreen(ModalScreen[str]):
    """`:quit`: stop the music, or leave it playing?"""

    BINDINGS = [
        Binding("y", "dismiss('stop')", "stop the music"),
        Binding("n,d", "dismiss('detach')", "leave it playing"),
        Binding("escape", "dismiss('')", "stay"),
    ]
    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical { width: 50; height: auto; border: round $accent; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Stop the music too?\n\n"
                         "y  stop the host (the music stops)\n"
                         "n  leave it playing (autobeat attach comes back)\n"
                         "esc  stay here")


class AttachedApp(AutoBeatApp):
    """The terminal app as a client of a host (see the module's doc)."""

    quit_label = "detach"  # what ^q does here, on the key bar and the help page

    def __init__(self, connect: Callable[[str], HostClient], *, bank_label: str = "",
                 list_outputs=None, list_inputs=None,
                 startup_warnings: tuple[str, ...] = ()) -> None:
        session = Session(Pattern())
        session.history = _MirrorHistory(Pattern())
        super().__init__(session, _NoEngine(), None, bank_label=bank_label,
                         list_outputs=list_outputs, list_inputs=list_inputs,
                         start_engine=False)
        self._startup_warnings = startup_warnings  # options this host does not take
        self._connect = connect
        self.control: HostClient | None = None
        self.watch: HostClient | None = None
        self.outcome = DETACHED
        self._latest: dict[str, Any] | None = None
        self._latest_lock = threading.Lock()
        self._seen_messages = 0
        self.first_state_at: float | None = None
        self.model_status = ModelStatus("…")
        self.host_messages: list[str] = []

    # --- the connection ------------------------------------------------------------------

    def on_mount(self) -> None:
        try:
            self.control = self._connect("send")
            self.watch = self._connect("watch")
        except HostNotStarted as exc:  # its own line: the bank is locked, say
            self.outcome = str(exc)
            self.exit(return_code=2)
            return
        except HostUnavailable as exc:
            self.outcome = f"{HOST_GONE}: {exc}"
            self.exit(return_code=2)
            return
        self.watch.sock.settimeout(None)
        self.link.ready = True  # the host's engine: its state comes in the snapshots
        threading.Thread(target=self._read_states, name="host-states", daemon=True).start()
        super().on_mount()
        for line in self._startup_warnings:
            self.report_error(line, title="host", severity="warning")

    def _read_states(self) -> None:
        assert self.watch is not None
        try:
            while True:
                state = self.watch.next_state()
                with self._latest_lock:
                    waiting = self._latest is not None
                    self._latest = state
                if not waiting:
                    self.post_message(StateArrived())
        except (OSError, ValueError, ConnectionError) as exc:
            self.post_message(HostGone(str(exc) or "the host closed the connection"))

    def on_state_arrived(self, _message: StateArrived) -> None:
        with self._latest_lock:
            state, self._latest = self._latest, None
        if state is None:
            return
        apply_snapshot(self.session, state)
        if self.first_state_at is None:
            self.first_state_at = time.monotonic()
        self.model_status = ModelStatus(state["model"], state["model"] == "missing")
        self.link.error = "" if state["engine"] in ("playing", "starting") else state["engine"]
        self.link.output_error = bool(state.get("output_error"))
        said = [Said.from_json(m) for m in state["messages"]]
        self.host_messages = [m.line for m in said]
        first = self._seen_messages == 0
        new = state["message_count"] - self._seen_messages
        self._seen_messages = state["message_count"]
        for message in said[-new:] if new > 0 else ():
            self.show(message, first)

    def show(self, message: Said, old: bool = False) -> None:
        """One message of the host's, as the app in its own process shows it: a problem
        as a notification, a line on the message line. Those said before this terminal
        attached are lines, but for a problem of the last few seconds (the bank's warnings
        of a host that has just started for it)."""
        if message.kind in NOTIFIED and (not old or time.time() - message.at < TOAST_S):
            severity = "error" if message.kind == PROBLEM else "warning"
            self.report_error(message.text, message.title or "AutoBeat", severity)
            return
        super().say(message.text, message.kind in (ERROR, PROBLEM), message.echo)

    def on_host_gone(self, message: HostGone) -> None:
        if self.outcome == DETACHED:
            self.outcome = f"{HOST_GONE}: {message.reason}"
        self.exit()

    def close_connections(self) -> None:
        for client in (self.control, self.watch):
            if client is not None:
                client.close()

    # --- commands go to the host ------------------------------------------------------------

    def run_line(self, line: str, typed: bool = False) -> bool:
        word = line.strip().removeprefix(":").strip()
        if word in ("quit!", "q!", "exit!"):
            self._stop_host()
            return True
        if word in ("quit", "q", "exit"):
            self.push_screen(QuitScreen(), self._quit_answer)
            return True
        if word in ("messages", "help") or word.startswith("help "):
            return super().run_line(line, typed)  # pages of this terminal
        if self.control is None:
            return False
        s = self.session
        try:
            ok, text = self.control.run(line, (s.cursor_track, s.cursor_step))
        except (OSError, ValueError, HostUnavailable) as exc:
            self.say(f"the host went away: {exc}", error=True)
            return False
        if not ok:
            self.query_one("#message").say(text, True)  # the host logs it for everyone
            return False
        from autobeat_tui.live import language as lang

        try:
            cmd = lang.parse(line, s.genres)
        except lang.CommandError:
            return True
        if isinstance(cmd, lang.Select):  # this terminal's selection follows
            s.select(cmd.group)
        return True

    def execute(self, cmd):  # only the pages above come here
        from autobeat_tui.live import language as lang

        if isinstance(cmd, lang.Messages):
            self.push_screen(MessagesScreen(self.host_messages))
            return None
        return super().execute(cmd)

    def _quit_answer(self, answer: str | None) -> None:
        if answer == "stop":
            self._stop_host()
        elif answer == "detach":
            self.action_quit_detach()

    def _stop_host(self) -> None:
        try:
            if self.control is not None:
                self.control.stop_host()
        except (OSError, ValueError, HostUnavailable) as exc:
            self.say(f"the host did not stop: {exc}", error=True)
            return
        self.outcome = STOPPED
        self.exit()

    def action_quit_detach(self) -> None:
        self.outcome = DETACHED
        self.exit()

    async def action_quit(self) -> None:  # Ctrl+Q: detach, the music plays on
        self.action_quit_detach()
