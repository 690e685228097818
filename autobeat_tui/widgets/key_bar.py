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


def key_bar_text(width: int) -> Text:
    items = [k for k in KEYS if k != ALWAYS_LAST]
    chosen: list[tuple[str, str]] = []
    used = len(ALWAYS_LAST[0]) + len(ALWAYS_LAST[1]) + 1
    for key, label in items:
        size = len(key) + 1 + len(label) + 2
        if used + size > width:
            break
        chosen.append((key, label))
        used += size
    chosen.append(ALWAYS_LAST)
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
        return key_bar_text(self.size.width)
