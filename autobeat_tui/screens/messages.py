"""`:messages`: every message of the session, whole and wrapped, the newest at the bottom."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from autobeat_tui.screens.scrolling import ScrollingScreen


class MessagesScreen(ScrollingScreen):
    PAGE_TITLE = "messages"

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__()
        self.lines = tuple(lines)

    def page(self) -> Static:
        text = Text("\n".join(self.lines) if self.lines else "no messages yet")
        return Static(text)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).scroll_end(animate=False, immediate=True)
