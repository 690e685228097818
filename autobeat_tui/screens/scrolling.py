"""A modal page of text that scrolls with the keys its title names (help, messages)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget


class ScrollingScreen(ModalScreen[None]):
    """One scrolling page over the app; its keys scroll it, and the cursor keys (and Tab)
    do not move the grid behind it (the app's check_action)."""

    DEFAULT_CSS = """
    ScrollingScreen {
        align: center middle;
    }
    ScrollingScreen > VerticalScroll {
        width: 100%;
        max-width: 110;
        height: 100%;
        border: round $primary;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q", "dismiss", "close", key_display="esc"),
        Binding("up", "scroll('up')", "scroll up", show=False),
        Binding("down", "scroll('down')", "scroll down", show=False),
        Binding("pageup", "scroll('page_up')", "page up", show=False),
        Binding("pagedown", "scroll('page_down')", "page down", show=False),
        Binding("home", "scroll('home')", "to the top", show=False),
        Binding("end", "scroll('end')", "to the end", show=False),
    ]
    PAGE_TITLE = ""

    def page(self) -> Widget:
        """The text the screen shows."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = f"{self.PAGE_TITLE} · esc closes · ↑↓ PgUp PgDn Home End scroll"
            scroll.can_focus = False  # the screen's own keys scroll it
            yield self.page()

    def action_scroll(self, where: str) -> None:
        scroll = self.query_one(VerticalScroll)
        {
            "up": scroll.scroll_up,
            "down": scroll.scroll_down,
            "page_up": scroll.scroll_page_up,
            "page_down": scroll.scroll_page_down,
            "home": scroll.scroll_home,
            "end": scroll.scroll_end,
        }[where](animate=False)
