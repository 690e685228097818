"""The status line: bank and slot, tempo, swing, transport, clock, MIDI output, model."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class StatusView:
    bank: str = ""  # the bank file's name
    slot: str = "A01"
    tempo: float = 120.0
    swing: float = 50.0
    playing: bool = False
    clock: str = "internal"  # internal | master | follow
    locked: bool = True
    clock_lost: bool = False
    output: str = "none"
    output_error: bool = False
    model: str = "loading…"
    model_error: bool = False
    engine_error: str = ""
    queued: str = ""  # a slot queued for the next bar
    chain: str = ""


def status_text(v: StatusView, width: int) -> Text:
    parts: list[tuple[str, str]] = []
    slot = f"{v.slot}→{v.queued}" if v.queued else v.slot
    parts.append((f"{v.bank} {slot}" if v.bank and width >= 100 else slot, "bold"))
    parts.append(("▶ play" if v.playing else "■ stop", "bold green" if v.playing else "bold"))
    parts.append((f"{v.tempo:.1f} BPM", "bold"))
    parts.append((f"swing {v.swing:g}%", ""))
    if v.clock == "follow":
        if v.clock_lost:
            parts.append(("clock ext: LOST", "bold red"))
        else:
            parts.append(
                (
                    f"clock ext {'lock' if v.locked else 'unlocked'}",
                    "" if v.locked else "bold yellow",
                )
            )
    else:
        parts.append(("clock int" + (" →out" if v.clock == "master" else ""), ""))
    out = v.output if len(v.output) <= 18 else v.output[:17] + "…"
    parts.append(
        (
            f"out {out}" + ("!" if v.output_error else ""),
            "bold red" if v.output_error else ("bold yellow" if v.output == "none" else ""),
        )
    )
    if v.engine_error:
        parts.append((f"engine {v.engine_error}", "bold red"))
    parts.append((f"model {v.model}", "bold red" if v.model_error else ""))
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (part, style) in enumerate(parts):
        if i:
            text.append(" │ ", style="dim")
        text.append(part, style=style)
    text.truncate(width, overflow="ellipsis")
    return text


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        background: $panel;
    }
    """

    view: reactive[StatusView] = reactive(StatusView)

    def render(self) -> Text:
        return status_text(self.view, self.size.width)
