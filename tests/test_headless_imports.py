"""Headless packages never import textual or rich; the runtime never imports torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEADLESS = ["patterns", "codec", "engine", "models"]
HEADLESS_MODULES = [
    "patterns.grid", "patterns.pattern", "patterns.kit",
    "codec.vocab", "codec.tokens", "codec.features", "codec.midi", "codec.dataset",
    "engine.messages", "engine.client", "engine.player", "engine.process",
    "patterns.bank", "models.runner",
    "autobeat_tui.host.core", "autobeat_tui.host.server", "autobeat_tui.host.client",
    "autobeat_tui.host.run", "autobeat_tui.commands.send",
]  # fmt: skip


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("module", HEADLESS + HEADLESS_MODULES)
def test_headless_modules_import_no_ui_and_no_torch(module):
    loaded = _loaded(module)
    assert module in loaded
    assert not {"textual", "rich", "torch"} & {name.split(".")[0] for name in loaded}
