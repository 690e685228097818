"""The runtime (runner, eval, the app's command line) imports no torch, textual or rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

RUNTIME = ["models.runner", "models.evaluate", "codec.context", "codec.grammar",
           "autobeat_tui.commands.generate", "autobeat_tui.commands.eval",
           "autobeat_tui.commands.train",
           "autobeat_tui.widgets.layout"]  # the grid the command line prints: no rich


@pytest.mark.parametrize("module", RUNTIME)
def test_runtime_modules_import_no_torch(module):
    code = (f"import sys, {module}; bad = [m for m in ('torch', 'gguf', 'textual', 'rich') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_app_imports_no_torch():
    # no guard on whether the modules exist: a renamed module fails here, not passes
    code = ("import sys, autobeat_tui.app, autobeat_tui.cli, autobeat_tui.commands.app\n"
            "assert 'autobeat_tui.app' in sys.modules and 'textual' in sys.modules\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
