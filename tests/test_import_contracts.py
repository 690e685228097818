"""The import contracts of pyproject.toml ([tool.importlinter]) hold, checked by import-linter.

Imports run one way (patterns <- codec <- models / engine <- autobeat_tui), the headless
packages never import textual or rich, and the runtime never imports torch. The second
test plants broken imports in a copy of the code, so a contract that checks nothing fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("autobeat_tui", "codec", "engine", "models", "patterns")
CONTRACTS = (
    "imports run one way: patterns <- codec <- models / engine <- autobeat_tui",
    "the codec reads patterns, never the bank",
    "the headless packages never import textual or rich",
    "the runtime never imports torch",
)
LINT = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` run on the packages under root (the working directory comes first)."""
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache"], cwd=root, capture_output=True, text=True,
        timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )


def contract_lines(out: str) -> dict[str, str]:
    """Each contract's name -> KEPT or BROKEN, from the report."""
    found = {}
    for name in CONTRACTS:
        line = next(line for line in out.splitlines() if line.startswith(name))
        found[name] = "BROKEN" if "BROKEN" in line else "KEPT" if "KEPT" in line else line
    return found


def test_every_import_contract_is_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert contract_lines(done.stdout) == dict.fromkeys(CONTRACTS, "KEPT")
    assert "Contracts: 4 kept, 0 broken." in done.stdout


def test_imports_against_the_direction_are_caught(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("*.gguf", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "engine" / "schedule.py").open("a") as f:
        f.write("\nfrom autobeat_tui.errors import UserError  # noqa\n")
    with (tmp_path / "patterns" / "grid.py").open("a") as f:
        f.write("\nimport rich  # noqa\n")
    with (tmp_path / "models" / "runner.py").open("a") as f:
        f.write("\ndef _late():\n    import torch  # noqa\n")
    with (tmp_path / "codec" / "tokens.py").open("a") as f:
        f.write("\nimport patterns.bank_file  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert contract_lines(done.stdout) == dict.fromkeys(CONTRACTS, "BROKEN")
    assert "engine.schedule -> autobeat_tui.errors" in done.stdout
