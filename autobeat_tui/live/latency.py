"""Latency offsets per output: what the app and the session host both keep.

``Latencies`` holds the user's settings (offsets kept per output name), this run's
``--latency`` (one offset for every output, until a kept one replaces it) and the
offset the engine has now. It answers ``:latency`` and says which ``SetLatency``
the engine needs when the output changes; the owner sends it.
"""

from __future__ import annotations

from typing import Any

from autobeat_tui.live import language as lang
from engine.messages import SetLatency


class Latencies:
    def __init__(self, settings: Any = None, latency_ms: float | None = None):
        self.settings = settings  # autobeat_tui.settings.Settings, or None (nothing kept)
        self.latency_ms = latency_ms  # --latency: this run's offset for every output
        self.sent: tuple[str | None, float] = (None, 0.0)  # (output, ms) the engine has now

    def changed(self, output: str) -> bool:
        return output != self.sent[0]

    def apply(self, output: str) -> SetLatency | None:
        """The offset kept for `output` (or --latency's): a SetLatency if the engine has
        another one, else None."""
        ms = self.latency_ms
        if ms is None:
            ms = self.settings.latency_for(output) if self.settings is not None else 0.0
        before = self.sent[1]
        self.sent = (output, ms)
        return SetLatency(ms) if ms != before else None

    def command(self, cmd: lang.Latency, output: str) -> tuple[str, SetLatency | None]:
        """`:latency [PORT] MS`: keep an offset for an output; no MS: list them.
        (the answer, a SetLatency for the engine or None); CommandError in one line."""
        from autobeat_tui.settings import SettingsError

        if cmd.ms is None:
            kept = self.settings.latency_ms if self.settings is not None else {}
            listed = ", ".join(f"{k} {v:+g} ms" for k, v in kept.items()) or "none kept"
            return f"latency: {output} {self.sent[1]:+g} ms now; {listed}", None
        name = cmd.name or output
        if name == "none":
            raise lang.CommandError("latency: no output is playing; name one: "
                                    + lang.USAGE["latency"])
        if self.settings is None:
            raise lang.CommandError("latency: there is no settings file to keep it in")
        try:
            self.settings.set_latency(name, cmd.ms)
        except (SettingsError, ValueError) as exc:
            raise lang.CommandError(f"latency: {exc}") from None
        self.latency_ms = None  # a kept offset replaces --latency
        self.sent = (None, self.sent[1])
        send = self.apply(output)
        where = "earlier" if cmd.ms > 0 else "later"
        return f"latency {name}: {abs(cmd.ms):g} ms {where} (kept)", send
