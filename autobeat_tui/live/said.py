"""What a session says, and of which kind: the form the host keeps and sends.

A line's kind decides how a screen shows it, in the app in its own process and in
an app attached to a host alike:

- ``say``: a command's answer or the session's own news, on the message line;
- ``error``: a command refused, on the message line in red;
- ``problem``: something wrong outside the user's command (a MIDI port, the audio
  device, the engine, the model, the clock): a notification;
- ``warning``: something to know at start (the bank, the settings): a notification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

SAY, ERROR, PROBLEM, WARNING = "say", "error", "problem", "warning"
KINDS = (SAY, ERROR, PROBLEM, WARNING)
NOTIFIED = (PROBLEM, WARNING)  # shown as a notification


@dataclass(frozen=True)
class Said:
    kind: str
    text: str
    echo: str = ""  # a typed line before its answer: "› bpm 90  → "
    title: str = ""  # a notification's title ("" for the app's own)
    at: float = field(default_factory=time.time)  # when (seconds since the epoch)

    @property
    def line(self) -> str:
        """The line as :messages and the console show it."""
        if self.kind == PROBLEM:
            return "✗ " + self.text
        if self.kind == WARNING:
            return "! " + self.text
        return self.echo + ("✗ " if self.kind == ERROR else "") + self.text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text, "at": round(self.at, 3)}
        if self.echo:
            out["echo"] = self.echo
        if self.title:
            out["title"] = self.title
        return out

    @classmethod
    def from_json(cls, value: Any) -> Said:
        """One message of a host's snapshot; ValueError if it is not one."""
        if not isinstance(value, dict) or value.get("kind") not in KINDS:
            raise ValueError(f"not a message: {value!r:.60}")
        text, echo, title = value.get("text"), value.get("echo", ""), value.get("title", "")
        at = value.get("at", 0.0)
        if not all(isinstance(v, str) for v in (text, echo, title)) or not isinstance(
                at, int | float):
            raise ValueError(f"not a message: {value!r:.60}")
        return cls(value["kind"], text, echo, title, float(at))
