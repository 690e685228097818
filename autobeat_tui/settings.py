"""The user's settings: a small JSON file in the user config folder (platformdirs).

Today it keeps one thing: a latency offset per MIDI output, for gear with its own
delay. An output gets the offset of the first name fragment it contains (as
`--out NAME` picks ports). Written atomically (temp file, fsync, rename); a file
that cannot be read is reported and left alone, never overwritten blindly.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.player import MAX_LATENCY_MS

APP_NAME = "autobeat"
VERSION = 1


class SettingsError(Exception):
    """The settings file cannot be read or written; the message says which and why."""


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "settings.json"


def check_latency(ms: float) -> float:
    """`ms` if within +-MAX_LATENCY_MS, else ValueError naming the range."""
    if not -MAX_LATENCY_MS <= ms <= MAX_LATENCY_MS:
        raise ValueError(f"latency must be in -{MAX_LATENCY_MS:g}..{MAX_LATENCY_MS:g} ms, "
                         f"got {ms:g}")
    return float(ms)


@dataclass
class Settings:
    path: Path
    latency_ms: dict[str, float] = field(default_factory=dict)  # output name fragment -> ms

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
            latency = {str(k): check_latency(float(v))
                       for k, v in dict(data.get("latency_ms", {})).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise SettingsError(f"{path}: not a settings file: {exc}") from None
        return cls(path, latency)

    def latency_for(self, output: str) -> float:
        """The offset of the first fragment `output` contains (0 when none)."""
        lowered = output.lower()
        for name, ms in self.latency_ms.items():
            if name.lower() in lowered:
                return ms
        return 0.0

    def set_latency(self, name: str, ms: float) -> None:
        """Keep `ms` for outputs containing `name` (0 forgets it), and save."""
        check_latency(ms)
        self.latency_ms = {k: v for k, v in self.latency_ms.items() if k.lower() != name.lower()}
        if ms:
            self.latency_ms[name] = float(ms)
        self.save()

    def save(self) -> None:
        data = {"version": VERSION, "latency_ms": self.latency_ms}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise SettingsError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
