"""Options several commands share (the leading underscore keeps this out of the command list)."""

from __future__ import annotations

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


def load_model(path: str | None, threads: int | None = None) -> BeatModel:
    """The model of a `--model FILE` option (None: the shipped one), or a one-line UserError."""
    from models.runner import BeatModel, ModelError

    try:
        return BeatModel.load(path, n_threads=threads)
    except ModelError as exc:
        raise UserError(str(exc)) from None
