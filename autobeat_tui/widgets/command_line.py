"""The live-coding command line: ``:`` focuses it; history on up/down, tab completes.

It only edits text: on enter it posts ``CommandLine.Run`` and the app runs
the line. A line the app rejects stays in place with its error under it.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input

from autobeat_tui.live.completion import Completion, CompletionContext, complete

MAX_HISTORY = 200
PLACEHOLDER = ":  type a command (help lists them), or use the keys below"


MORE = " … :messages"


def message_text(message: str, width: int) -> Text:
    """One line; a message too long for it ends in a pointer to where it is whole."""
    text = Text(message, no_wrap=True, overflow="ellipsis")
    if width > 2 * len(MORE) and text.cell_len > width:
        text.truncate(width - len(MORE))
        text.append(MORE, style="dim")
    return text


class MessageLine(Widget):
    """One line of feedback: what the last command did, or why it was refused."""

    DEFAULT_CSS = """
    MessageLine {
        height: 1;
        width: 1fr;
    }
    MessageLine.-error {
        color: $text-error;
        text-style: bold;
    }
    """

    message: reactive[str] = reactive("")

    def render(self) -> Text:
        prefix = "✗ " if self.has_class("-error") else ""
        return message_text(prefix + self.message, self.size.width)

    def say(self, message: str, error: bool = False) -> None:
        self.set_class(error, "-error")
        self.message = message
        self.refresh()


class CommandLine(Input):
    """An Input with history and completion."""

    DEFAULT_CSS = """
    CommandLine {
        height: 1;
        border: none;
        padding: 0;
        width: 1fr;
        background: $surface;
    }
    CommandLine:focus {
        border: none;
        background: $boost;
    }
    """

    BINDINGS = [
        Binding("tab", "complete", "complete", show=False, priority=True),
        Binding("up", "history(-1)", "previous", show=False),
        Binding("down", "history(1)", "next", show=False),
        Binding("escape", "leave", "back to the grid", show=False),
    ]

    class Run(Message):
        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    def __init__(self, context: Callable[[], CompletionContext] | None = None, **kwargs) -> None:
        super().__init__(placeholder=PLACEHOLDER, **kwargs)
        self.history: list[str] = []
        self._history_index = 0
        self._completion_context = context or CompletionContext
        self._cycle: tuple[str, int, tuple[str, ...], int] | None = None  # line, start, options, i
        self.candidates: tuple[str, ...] = ()

    # --- history -----------------------------------------------------------------

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-MAX_HISTORY]
        self._history_index = len(self.history)

    def action_history(self, direction: int) -> None:
        if not self.history:
            return
        self._history_index = max(0, min(len(self.history), self._history_index + direction))
        self.value = (
            self.history[self._history_index] if self._history_index < len(self.history) else ""
        )
        self.cursor_position = len(self.value)

    # --- completion ----------------------------------------------------------------

    def action_complete(self) -> None:
        line = self.value[: self.cursor_position]
        if self._cycle is not None and self._cycle[0] == self.value:
            _, start, options, i = self._cycle
            i = (i + 1) % len(options)
            self._set(self.value[:start] + options[i], start, options, i)
            return
        done: Completion = complete(line, self._completion_context())
        options = done.candidates
        self.candidates = options
        if not options:
            self.app.bell()
            return
        if len(options) == 1:
            tail = "" if options[0].endswith(("=", "*")) else " "
            self.value = line[: done.start] + options[0] + tail
            self.cursor_position = len(self.value)
            self._cycle = None
        else:
            prefix = done.common_prefix()
            typed = line[done.start :]
            if len(prefix) > len(typed):
                self.value = line[: done.start] + prefix
                self.cursor_position = len(self.value)
            else:
                self._set(line[: done.start] + options[0], done.start, options, 0)
        self._show_options(options)

    def _set(self, value: str, start: int, options: tuple[str, ...], i: int) -> None:
        self.value = value
        self.cursor_position = len(value)
        self._cycle = (value, start, options, i)

    def _show_options(self, options: tuple[str, ...]) -> None:
        if len(options) > 1:
            shown = " ".join(options[:12]) + (" …" if len(options) > 12 else "")
            self.post_message(CommandLine.Options(shown))

    class Options(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    # --- enter and escape ----------------------------------------------------------------

    async def action_submit(self) -> None:
        line = self.value.strip()
        self.remember(line)
        self._cycle = None
        self.post_message(CommandLine.Run(line))

    def action_leave(self) -> None:
        self.value = ""
        self._cycle = None
        self.screen.set_focus(None)

    def on_key(self, event: events.Key) -> None:
        if event.key != "tab":
            self._cycle = None if event.key not in ("shift+tab",) else self._cycle
