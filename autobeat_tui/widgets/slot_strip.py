"""The slots of the current bank letter: filled (●) or empty (○), the current one marked."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class SlotView:
    slot: str = "A01"
    filled: frozenset[str] = frozenset()
    queued: str = ""
    chain: str = ""
    mutate_amount: float = 0.25
    undo: tuple[int, int] = (0, 0)


def slot_text(v: SlotView, width: int) -> Text:
    letter = v.slot[0]
    narrow_chain = bool(v.chain) and width < 100  # make room for the chain
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"bank {letter} ", style="bold")
    for n in range(1, 17):
        name = f"{letter}{n:02d}"
        mark = "●" if name in v.filled else "○"
        style = "bold reverse" if name == v.slot else ("bold" if name in v.filled else "dim")
        if name == v.queued:
            style += " underline"
        text.append(f"{mark}{n:02d}", style=style)
        if not narrow_chain:
            text.append(" ")
    extra = "" if narrow_chain else f"mut {v.mutate_amount:.2f}"
    if width >= 100:
        extra += f" · undo {v.undo[0]}/redo {v.undo[1]}"
    if v.chain:
        extra += f"{' · ' if extra else ' '}chain {v.chain}"
    text.append(extra, style="dim")
    text.truncate(width, overflow="ellipsis")
    return text


class SlotStrip(Widget):
    DEFAULT_CSS = """
    SlotStrip {
        height: 1;
        width: 1fr;
    }
    """

    view: reactive[SlotView] = reactive(SlotView)

    def render(self) -> Text:
        return slot_text(self.view, self.size.width)
