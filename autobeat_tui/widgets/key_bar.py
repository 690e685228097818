"""The footer: the main hotkeys, as many as fit, most important first; ``?`` shows all."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

# (keys, what they do), in the order they are dropped from the right when narrow
KEYS: tuple[tuple[str, str], ...] = (
    ("?", "help"),
    (":", "cmd"),
    ("1-4", "group"),
    ("g", "gen"),
    ("G", "all"),
    ("r", "mutate"),
    ("␣", "play"),
    ("u", "undo"),
    ("w", "save"),
    ("^q", "quit"),
    ("←↓↑→", "cursor"),
    ("x", "hit"),
    ("m/s", "mute/solo"),
    ("e t d i", "params"),
    ("-/+", "bpm"),
    ("[ ]", "slot"),
    ("l", "load"),
    ("b", "queue"),
)
ALWAYS_LAST = ("^q", "quit")


def key_bar_text(width: int, quit_label: str = ALWAYS_LAST[1]) -> Text:
    """The bar at `width`; `quit_label`: what ^q does (an attached app detaches)."""
    items = [k for k in KEYS if k != ALWAYS_LAST]
    last = (ALWAYS_LAST[0], quit_label)
    chosen: list[tuple[str, str]] = []
    used = len(last[0]) + len(last[1]) + 1
    for key, label in items:
        size = len(key) + 1 + len(label) + 2
        if used + size > width:
            break
        chosen.append((key, label))
        used += size
    chosen.append(last)
    text = Text(no_wrap=True)
    for i, (key, label) in enumerate(chosen):
        if i:
            text.append("  ")
        text.append(key, style="bold reverse")
        text.append(" " + label)
    return text


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        width: 1fr;
        background: $panel;
    }
    """

    def render(self) -> Text:
        return key_bar_text(self.size.width, getattr(self.app, "quit_label", ALWAYS_LAST[1]))
