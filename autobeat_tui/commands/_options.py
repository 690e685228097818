"""Options several commands share (the leading underscore keeps this out of the command list)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from autobeat_tui.errors import UserError

# the MIDI systems --api may name (engine.ports knows the same names)
API_CHOICES = ("alsa", "jack", "coremidi", "winmm")

if TYPE_CHECKING:
    from models.runner import BeatModel
    from patterns.kit import KitMap


def load_kit(path: str | None) -> KitMap | None:
    """The kit map of a `--kit FILE` option (None: General MIDI), or a one-line UserError."""
    if path is None:
        return None
    from patterns.kit import KitError, KitMap

    try:
        return KitMap.from_toml(path)
    except KitError as exc:
        raise UserError(str(exc)) from None


def model_threads(cpus: int | None = None) -> int:
    """llama.cpp threads for the app and the model commands: one core stays free.

    On a busy 2-core machine two spinning compute threads made one group take
    seconds instead of 30 ms (`generate --group all` 6-25 s against 0.9 s); one
    thread leaves the other core to the screen, the engine and everything else.
    """
    cpus = cpus or os.cpu_count() or 2
    return max(1, min(4, cpus - 1))


THREADS_HELP = "llama.cpp threads (default: one less than the cores, at most 4)"


def load_model(path: str | None, threads: int | None = None) -> BeatModel:
    """The model of a `--model FILE` option (None: the shipped one), or a one-line UserError;
    `threads` None: model_threads()."""
    from models.runner import BeatModel, ModelError

    try:
        return BeatModel.load(path, n_threads=threads or model_threads())
    except ModelError as exc:
        raise UserError(str(exc)) from None
