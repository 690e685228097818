"""The real `autobeat` in tmux, as a user runs it: it starts (a session host, and the app
on it), shows the 12 tracks, takes a typed beat, generates on a key (when the shipped
model is there), saves, and detaches; `autobeat stop` stops the host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from patterns.bank import load_bank
from patterns.grid import TRACKS

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None and not os.environ.get("CI"), reason="tmux is not installed (required in CI)"
)


class Tmux:
    def __init__(self, tmp: Path) -> None:
        self.socket = f"autobeat-test-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            [TMUX or "tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        ).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def wait_for(self, predicate, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out; the screen was:\n{text}")

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time, as typed
            self("send-keys", "-t", "app", key)
            time.sleep(0.02)


def _command(bank: Path) -> str:
    exe = shutil.which("autobeat")
    base = exe if exe else f"{sys.executable} -m autobeat_tui.cli"
    # the shipped model by default; AUTOBEAT_TEST_MODEL tries another GGUF
    model = os.environ.get("AUTOBEAT_TEST_MODEL")
    return f"{base} --bank {bank}" + (f" --model {model}" if model else "")


@pytest.fixture
def tmux(tmp_path):
    session = Tmux(tmp_path)
    yield session
    subprocess.run([TMUX or "tmux", "-L", session.socket, "kill-server"], capture_output=True)


@pytest.fixture
def hosts_folder():
    """A runtime folder of the test's own for the hosts' sockets; every host left in it
    is stopped afterwards (by its pid, as autobeat hosts names it)."""
    import signal
    import tempfile

    from autobeat_tui.host import protocol as p

    folder = Path(tempfile.mkdtemp(prefix="abrt"))  # short: a socket path's limit
    yield folder
    env = {**os.environ, p.RUNTIME_ENV: str(folder)}
    listed = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "hosts"], env=env,
                            capture_output=True, text=True, timeout=30).stdout
    for line in listed.splitlines():
        if "  pid " in line:
            pid = int(line.split("  pid ")[1].split()[0])
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    shutil.rmtree(folder, ignore_errors=True)


def test_autobeat_starts_plays_a_typed_beat_saves_and_detaches(tmux, tmp_path, hosts_folder):
    from autobeat_tui.host import protocol as p

    home = tmp_path / "home"
    home.mkdir()
    bank = tmp_path / "bank.json"
    done = tmp_path / "exit.txt"
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TERM": "xterm-256color",
        p.RUNTIME_ENV: str(hosts_folder),
    }
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    cwd = Path(__file__).resolve().parents[2]
    tmux(
        "new-session",
        "-d",
        "-s",
        "app",
        "-x",
        "80",
        "-y",
        "24",
        f"cd {cwd} && env {exports} {_command(bank)}; echo $? > {done}; sleep 30",
    )

    screen = tmux.wait_for(lambda s: "ride" in s and "? help" in s)
    for track in TRACKS:
        assert track.name in screen
    assert "A01" in screen and "BPM" in screen

    # a beat typed on the command line
    tmux.keys(":", "kick x...x...x...x...", "Enter")
    screen = tmux.wait_for(lambda s: "kick: 8 hits" in s)
    kick_row = next(line for line in screen.splitlines() if line.startswith("kick"))
    assert kick_row[:44].count("▆") == 4  # bar 1 (a notification may cover bar 2)

    # generate on a key: with the model there, the hats lane fills; without it, a clear error
    tmux.wait_for(lambda s: "model loading" not in s)
    tmux.keys("2", "g")
    screen = tmux.wait_for(lambda s: "generated hats" in s or "generation is off" in s, 60)
    model_ok = "generated hats" in screen
    if model_ok:
        hats = [line for line in screen.splitlines() if line.startswith(("chh", "phh", "ohh"))]
        assert any(ch in "".join(hats) for ch in "▂▄▆█")

    # save, then detach: the host plays on until autobeat stop
    tmux.keys("w")
    tmux.wait_for(lambda s: "saved A01" in s)
    tmux.keys("C-q")
    end = time.monotonic() + 20
    while not done.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert done.read_text().strip() == "0"
    assert "detached: the host of" in tmux.screen()
    cli = [sys.executable, "-m", "autobeat_tui.cli"]
    environ = {**os.environ, **env, "PYTHONPATH": str(cwd)}
    listed = subprocess.run([*cli, "hosts"], env=environ, capture_output=True, text=True)
    assert listed.stdout.startswith(f"{bank}  pid ")
    stopped = subprocess.run([*cli, "stop", "--bank", str(bank)], env=environ,
                             capture_output=True, text=True, timeout=30)
    assert stopped.stdout == f"{bank}: host stopped; music off\n"
    saved = load_bank(bank).bank.get("A01")
    assert [e.step for e in saved.track_events(1)] == [0, 4, 8, 12, 16, 20, 24, 28]
    if model_ok:
        assert saved.group_events(2)
