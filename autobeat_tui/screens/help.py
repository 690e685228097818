"""The help screen (``?``): every hotkey, every command, and how to read the grid."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from autobeat_tui.hotkeys import help_rows
from autobeat_tui.live.language import USAGE, USAGE_LITERAL
from autobeat_tui.screens.scrolling import ScrollingScreen
from autobeat_tui.widgets.layout import LEGEND
from patterns.grid import GROUPS, TRACKS

TRACK_LIST = "   ".join(
    " ".join(f"{t}:{TRACKS[t - 1].name}" for t in g.tracks) for g in GROUPS
) + "   (a TRACK is its number or its name: mute 5 = mute chh; a GROUP is 1..4)"
COND_LEGEND = (
    "after a hit: % probability  1..8 A of A:B  F fill  f not fill  P pre  p not pre "
    "(c cycles, cond sets: 40% 1:2 fill !fill pre !pre)"
)


def help_table(quit_label: str = "quit") -> Table:
    """The page; `quit_label`: what ^q does in this app (attached to a host: detach)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(Text("KEYS", style="bold underline"), "")
    # plain Text: a usage such as "[as NAME]" or "[temp=T]" is not rich markup
    for keys, what in help_rows():
        table.add_row(Text(keys), Text(quit_label if keys == "^q" else what))
    table.add_row("", "")
    table.add_row(
        Text("COMMANDS", style="bold underline"), "type : then a command; tab completes, ↑↓ history"
    )
    for name, usage in USAGE.items():
        table.add_row(Text(name), Text(usage))
    table.add_row(Text("kick ..."), Text(USAGE_LITERAL))
    table.add_row("", "")
    table.add_row(Text("TRACKS", style="bold underline"), Text(TRACK_LIST))
    table.add_row("", "")
    table.add_row(Text("GRID", style="bold underline"), Text(LEGEND))
    table.add_row(Text("CONDITIONS", style="bold underline"), COND_LEGEND)
    return table


class HelpScreen(ScrollingScreen):
    PAGE_TITLE = "AutoBeat help"
    BINDINGS = [Binding("question_mark", "dismiss", "close", key_display="?")]

    def page(self) -> Static:
        return Static(help_table(getattr(self.app, "quit_label", "quit")))
