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


WIDE = 100  # from here the chain fits on the slots' line


def slot_text(v: SlotView, width: int) -> Text:
    """One line; under WIDE columns a playing chain gets a second line of its own (which a
    short screen folds away: the app's CSS holds the strip to one line there)."""
    letter = v.slot[0]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"bank {letter} ", style="bold")
    for n in range(1, 17):
        name = f"{letter}{n:02d}"
        mark = "●" if name in v.filled else "○"
        style = "bold reverse" if name == v.slot else ("bold" if name in v.filled else "dim")
        if name == v.queued:
            style += " underline"
        text.append(f"{mark}{n:02d}", style=style)
        text.append(" ")
    extra = f"mut {v.mutate_amount:.2f}"
    if width >= WIDE:
        extra += f" · undo {v.undo[0]}/redo {v.undo[1]}"
        if v.chain:
            extra += f" · chain {v.chain}"
    text.append(extra, style="dim")
    text.truncate(width, overflow="ellipsis")
    if v.chain and width < WIDE:
        chain = Text(f"chain {v.chain}", style="dim", no_wrap=True, overflow="ellipsis")
        chain.truncate(width, overflow="ellipsis")
        text = Text("\n", no_wrap=True).join([text, chain])
    return text


class SlotStrip(Widget):
    DEFAULT_CSS = """
    SlotStrip {
        height: auto;
        width: 1fr;
    }
    """

    view: reactive[SlotView] = reactive(SlotView, layout=True)  # a chain adds a line

    def render(self) -> Text:
        return slot_text(self.view, self.size.width)
