"""Phrases with fills, headless: `autobeat play --phrase N` and `autobeat bench fills`.

The engine plays in its own process; this loop reads its states, asks the
drummer (autobeat_tui/live/drummer.py) for the jobs of the bars ahead, runs them
on the model in this thread (the only one using it) and sends each result as a
``PlayOnce``. A fill is ready in time when the engine got it before its bar
began; the engine counts the others (``EngineState.once_late``) and plays them
a bar later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autobeat_tui.live.drummer import Drummer, run_job
from engine import messages as m
from patterns.pattern import Pattern

if TYPE_CHECKING:
    from models.runner import BeatWriter

POLL_S = 0.01


@dataclass
class PhraseStats:
    fills: int = 0  # fills written and sent
    variations: int = 0
    late: int = 0  # sent after their bar had begun (the engine's count)
    write_s: list[float] = field(default_factory=list)  # model time per job
    margin_s: list[float] = field(default_factory=list)  # fills: time left before the bar
    errors: list[str] = field(default_factory=list)
    state: m.EngineState | None = None

    def summary(self) -> dict:
        def pct(values: list[float], q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)

        return {
            "fills": self.fills,
            "variations": self.variations,
            "fills_late": self.late,
            "fills_ready_in_time": self.fills - min(self.late, self.fills),
            "write_s_p50": pct(self.write_s, 0.5),
            "write_s_max": pct(self.write_s, 1.0),
            "margin_s_min": pct(self.margin_s, 0.0),
            "errors": self.errors,
        }


def bar_start(state: m.EngineState, bar: int, received: float) -> float:
    """When song bar ``bar`` begins (monotonic seconds), from a state received at
    ``received``: its step and tempo."""
    step_s = 60.0 / state.tempo / 4
    now_step = state.bar * 16 + state.step % 16
    return received + (bar * 16 - now_step) * step_s


def play_phrases(engine: Any, model: BeatWriter, groove: Pattern, drummer: Drummer,
                 done: Callable[[m.EngineState | None, float], bool],
                 say: Callable[[str], None] | None = None) -> PhraseStats:
    """Poll the engine, serve the drummer's jobs, until ``done(state, seconds)``."""
    stats = PhraseStats()
    started = time.monotonic()
    state: m.EngineState | None = None
    received = started
    while engine.alive and not done(state, time.monotonic() - started):
        for report in engine.poll():
            if isinstance(report, m.EngineState):
                state, received = report, time.monotonic()
            elif isinstance(report, (m.PortError, m.CommandError)):
                stats.errors.append(report.message)
                if say:
                    say(report.message)
        if state is None:
            time.sleep(POLL_S)
            continue
        stats.state = state
        if done(state, time.monotonic() - started):
            break
        for job in drummer.on_state(state, groove):
            t0 = time.monotonic()
            result = run_job(model, job)
            sent = time.monotonic()
            stats.write_s.append(sent - t0)
            engine.send(drummer.ready(job, result))
            if job.kind == "fill":
                stats.fills += 1
                if job.at_bar is not None:
                    stats.margin_s.append(bar_start(state, job.at_bar, received) - sent)
                if say:
                    say(f"fill for bar {job.at_bar + 1 if job.at_bar is not None else '?'} "
                        f"written in {sent - t0:.2f} s")
            else:
                stats.variations += 1
        stats.late = state.once_late
        time.sleep(POLL_S)
    if state is not None:
        stats.late = state.once_late
    return stats
