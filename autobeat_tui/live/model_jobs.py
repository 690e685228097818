"""The model's jobs, run in a worker thread by the app and by the session host
(headless: no textual here)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from autobeat_tui.live.session import GenRequest
from patterns.pattern import Pattern

if TYPE_CHECKING:
    from models.runner import BeatWriter


def background_priority(nice: int = 10) -> None:
    """Lower this thread's priority (Linux: nice is per thread; the model's compute
    threads started from it inherit it), so the screen answers keys while it works."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: the model runs at the app's priority


def run_model(model: BeatWriter, request: GenRequest) -> Pattern:
    """One job on the model (call with the model lock held)."""
    p = request.pattern
    extra = {} if request.temperature is None else {"temperature": request.temperature}
    if request.kind == "all":
        return model.generate_all(p, p.params, request.seed, **extra)
    g = request.groups[0]
    if request.kind == "mutate":
        return model.mutate(p, g, request.amount, request.seed)
    return model.generate_group(p, g, p.group_params(g), request.seed, **extra)
