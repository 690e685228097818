"""The ruler above the lanes: beat numbers, bar lines and the playhead (▼)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from autobeat_tui.widgets.layout import grid_layout, ruler_pieces


def ruler_text(playhead: int | None, width: int) -> Text:
    text = Text(no_wrap=True)
    for piece, style in ruler_pieces(grid_layout(width), playhead):
        text.append(piece, style=style)
    return text


class Ruler(Widget):
    DEFAULT_CSS = """
    Ruler {
        height: 1;
        width: 1fr;
    }
    """

    playhead: reactive[int | None] = reactive(None)

    def render(self) -> Text:
        return ruler_text(self.playhead, self.size.width)
