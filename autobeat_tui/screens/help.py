"""The help screen (``?``): every hotkey, every command, and how to read the grid."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from autobeat_tui.hotkeys import help_rows
from autobeat_tui.live.language import USAGE, USAGE_LITERAL
from autobeat_tui.widgets.layout import BAR_LINE, BEAT_LINE, EARLY, EMPTY, GLYPHS, LATE

LEGEND = (
    f"{EMPTY} empty step   {' '.join(GLYPHS)} hits, soft to loud   "
    f"{EARLY} early  {LATE} late   {BAR_LINE} bar  {BEAT_LINE} beat   "
    "M muted  S soloed   ▼ playhead"
)
COND_LEGEND = (
    "after a hit: % probability  1..8 A of A:B  F fill  f not fill  P pre  p not pre "
    "(c cycles, cond sets: 40% 1:2 fill !fill pre !pre)"
)


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(Text("KEYS", style="bold underline"), "")
    for keys, what in help_rows():
        table.add_row(keys, what)
    table.add_row("", "")
    table.add_row(
        Text("COMMANDS", style="bold underline"), "type : then a command; tab completes, ↑↓ history"
    )
    for name, usage in USAGE.items():
        table.add_row(name, usage)
    table.add_row("kick ...", USAGE_LITERAL)
    table.add_row("", "")
    table.add_row(Text("GRID", style="bold underline"), LEGEND)
    table.add_row(Text("CONDITIONS", style="bold underline"), COND_LEGEND)
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
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
        Binding("escape,question_mark,q", "dismiss", "close", key_display="esc"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "AutoBeat help · esc closes · ↑↓ scroll"
            yield Static(help_table())
