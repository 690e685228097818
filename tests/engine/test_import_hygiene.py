"""The engine is headless: importing it pulls in neither textual nor rich (nor torch)."""

from __future__ import annotations

import subprocess
import sys


def test_engine_imports_no_ui_or_torch():
    code = (
        "import sys, engine.client, engine.process, engine.player, engine.ports, "
        "engine.follower, engine.jacktools, engine.audio, engine.render; "
        "print(sorted(m for m in ('textual', 'rich', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
