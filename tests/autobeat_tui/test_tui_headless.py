"""The app's logic (autobeat_tui/live) is headless: no textual, no rich, no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

LIVE = [
    "autobeat_tui.live.language",
    "autobeat_tui.live.commands",
    "autobeat_tui.live.completion",
    "autobeat_tui.live.session",
    "autobeat_tui.live.steps",
    "autobeat_tui.live.history",
    "autobeat_tui.live.chain",
]


@pytest.mark.parametrize("module", LIVE)
def test_live_modules_import_no_ui(module):
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = {name.split(".")[0] for name in out.split()}
    assert not {"textual", "rich", "torch"} & loaded


def test_the_app_command_imports_nothing_heavy_at_parse_time():
    code = (
        "import sys, autobeat_tui.commands.app as a, argparse;"
        "a.add_arguments(argparse.ArgumentParser());"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = {name.split(".")[0] for name in out.split()}
    assert not {"textual", "llama_cpp", "torch", "numpy"} & loaded


def test_the_model_leaves_a_core_to_the_screen():
    from autobeat_tui.commands.app import model_threads

    assert [model_threads(n) for n in (1, 2, 4, 16)] == [1, 1, 3, 4]
