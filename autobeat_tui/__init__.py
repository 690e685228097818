"""AutoBeat TUI: the Textual app and the `autobeat` command line."""

from __future__ import annotations

__version__ = "0.1.0"
