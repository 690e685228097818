"""The status line: bank and slot, tempo, swing, transport, clock, MIDI output, model."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class StatusView:
    bank: str = ""  # the bank file's name
    read_only: bool = False  # the bank opened read-only (another autobeat has it): no saving
    slot: str = "A01"
    tempo: float = 120.0
    own_tempo: bool = False  # the slot plays at its own tempo, not the global one
    swing: float = 50.0
    playing: bool = False
    clock: str = "internal"  # internal | master | follow | link
    peers: int = 0  # Link: the other peers in the session
    locked: bool = True
    clock_lost: bool = False
    output: str = "none"
    output_error: bool = False
    model: str = "loading…"
    model_error: bool = False
    engine_error: str = ""
    queued: str = ""  # a slot queued for the next bar
    chain: str = ""
    fill: str = ""  # "fill armed" | "fill waits for bar N" | "fill ▶" (issue 13)
    phrase: int = 0  # bars a phrase, 0: off
    vary: float = 0.0


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _parts(v: StatusView, wide: bool, name_size: int, bank_size: int) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    slot = f"{v.slot}→{v.queued}" if v.queued else v.slot
    bank = _short(v.bank.removesuffix(".json"), bank_size) if bank_size else ""
    parts.append((f"{bank} {slot}" if bank else slot, "bold"))
    if v.read_only:
        parts.append(("read-only" if wide else "RO", "bold yellow"))
    transport = ("▶ play " if v.playing else "■ stop ") if wide else ("▶ " if v.playing else "■ ")
    own = (" slot" if wide else "*") if v.own_tempo else ""
    parts.append((f"{transport}{v.tempo:.1f} BPM{own}", "bold green" if v.playing else "bold"))
    parts.append((f"{'swing' if wide else 'sw'} {v.swing:g}%", ""))
    clock = "clock" if wide else "clk"
    if v.clock == "follow":
        if v.clock_lost:
            parts.append((f"{clock} ext LOST", "bold red"))
        else:
            lock = "lock" if v.locked else "unlocked"
            parts.append((f"{clock} ext {lock}", "" if v.locked else "bold yellow"))
    elif v.clock == "link":
        peers = f"{v.peers} peer{'s' if v.peers != 1 else ''}" if wide else f"{v.peers}p"
        parts.append((f"{clock} link {peers}", "" if v.peers else "bold yellow"))
    else:
        parts.append((f"{clock} int" + (" →out" if v.clock == "master" else ""), ""))
    if v.engine_error:  # no engine: its output does not matter
        parts.append((f"engine {v.engine_error}", "bold red"))
    else:
        out = _short(v.output, name_size) + ("!" if v.output_error else "")
        out_style = "bold red" if v.output_error else ("bold yellow" if v.output == "none" else "")
        parts.append((f"out {out}", out_style))
    model = _short(v.model.removesuffix(".gguf"), name_size)
    parts.append((f"model {model}", "bold red" if v.model_error else ""))
    drummer = " ".join(filter(None, (
        f"phrase {v.phrase}" if v.phrase else "",
        f"vary {v.vary:g}" if v.vary else "",
        v.fill,
    )))
    if drummer:
        parts.insert(3, (drummer, "bold magenta" if v.fill else "magenta"))
    return parts


def status_text(v: StatusView, width: int) -> Text:
    """The parts, most important first; the words get shorter until the line fits."""
    for wide, name_size, bank_size, sep in (
        (True, 24, 24, " │ "),
        (False, 14, 12, " │ "),
        (False, 10, 8, " │ "),
        (False, 10, 0, " │ "),
        (False, 8, 0, "│"),
    ):
        parts = _parts(v, wide, name_size, bank_size)
        if sum(len(p) for p, _ in parts) + len(sep) * (len(parts) - 1) <= width:
            break
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (part, style) in enumerate(parts):
        if i:
            text.append(sep, style="dim")
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
