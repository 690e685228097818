"""The ruler above the lanes: beat numbers, bar lines and the playhead (▼)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from autobeat_tui.widgets.layout import grid_layout, separator
from patterns.grid import STEPS, STEPS_PER_BAR, STEPS_PER_BEAT

PLAYHEAD = "▼"


def ruler_text(playhead: int | None, width: int) -> Text:
    layout = grid_layout(width)
    text = Text(no_wrap=True)
    if playhead is None:
        where = "stop"
    else:
        bar, rest = divmod(playhead, STEPS_PER_BAR)
        beat, step = divmod(rest, STEPS_PER_BEAT)
        where = f"{bar + 1}.{beat + 1}.{step + 1}"
    text.append(f"{where:<{layout.label + 2}}"[: layout.label + 2], style="bold")
    for s in range(STEPS):
        if s % STEPS_PER_BEAT == 0:
            text.append(separator(s), style="dim")
        if s == playhead:
            text.append(PLAYHEAD, style="bold")
        elif s % STEPS_PER_BEAT == 0:
            text.append(
                str(s // STEPS_PER_BEAT % 4 + 1), style="bold" if s % STEPS_PER_BAR == 0 else "dim"
            )
        else:
            text.append(" ")
        text.append(" " * (layout.cell - 1))
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
