"""As a user on SSH: start the app on a host, generate, play, lose the terminal, attach
from a new one. JACK (jack_midi_dump) hears that the music never stopped."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autobeat_tui.host import protocol as p
from tests.autobeat_tui.test_tui_e2e import TMUX, Tmux

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    (TMUX is None or shutil.which("jackd") is None) and not os.environ.get("CI"),
    reason="tmux and jackd are not installed (required in CI)",
)
BPM = 174


def playing(screen: str) -> bool:
    return "│ ▶" in screen.splitlines()[0]  # the status line's transport


def grid(screen: str) -> list[str]:
    """The 12 track rows (the grid without the playhead's ruler)."""
    names = ("kick", "rim", "snare", "clap", "chh", "phh", "ohh", "ltom", "mtom", "htom",
             "crash", "ride")
    return [line for line in screen.splitlines() if line.split(" ")[0] in names]


def test_the_music_plays_on_when_the_terminal_goes_and_attach_brings_it_back(tmp_path):
    from engine.jacktools import MidiDump, realtime_server

    jack = realtime_server()  # its frames are the clock here: realtime keeps them time
    runtime = Path(tempfile.mkdtemp(prefix="abrt"))
    with jack:
        env, exports = host_env(jack, runtime, tmp_path)
        dump = MidiDump(jack.name, "dumper")
        bank = tmp_path / "set.json"
        cli = f"{sys.executable} -m autobeat_tui.cli"
        first, second = Tmux(tmp_path), Tmux(tmp_path)
        try:
            first("new-session", "-d", "-s", "app", "-x", "80", "-y", "30",
                  f"env {exports} {cli} attach --bank {bank} --out dumper; sleep 60")
            first.wait_for(lambda s: "ride" in s and "out dumper" in s)
            first.wait_for(lambda s: "model loading" not in s)
            first.keys("G")
            first.wait_for(lambda s: "generated" in s or "generation is off" in s, 60)
            first.keys(":", f"bpm {BPM}", "Enter")
            first.keys(":", "kick x...x...x...x...x...x...x...x...", "Enter")
            first.wait_for(lambda s: "kick: 8 hits" in s)
            first.keys("space")
            before = first.wait_for(playing)
            time.sleep(1.0)
            subprocess.run([TMUX, "-L", first.socket, "kill-server"], capture_output=True)
            time.sleep(2.0)  # the terminal is gone; the host plays on
            hosts = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "hosts"],
                                   env=env, capture_output=True, text=True).stdout
            assert f"{bank}  pid" in hosts and "0 clients  playing" in hosts
            second("new-session", "-d", "-s", "app", "-x", "80", "-y", "30",
                   f"env {exports} {cli} attach --bank {bank}; sleep 60")
            after = second.wait_for(lambda s: playing(s) and grid(s) == grid(before))
            assert "kick" in after
            second.keys("C-q")
            second.wait_for(lambda s: "detached: the host of" in s)
            time.sleep(0.5)
        finally:
            stop_all(env, bank, (first, second), dump, runtime)
    assert_no_kick_lost(dump.snapshot(), 4.0, "across the terminal's death and the new attach")


def stop_all(env: dict, bank: Path, tmuxes, dump, runtime) -> None:
    """Stop the bank's host, the tmux servers, jack_midi_dump; remove the runtime folder."""
    subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "stop", "--bank", str(bank)],
                   env=env, capture_output=True, timeout=30)
    for tmux in tmuxes:
        subprocess.run([TMUX or "tmux", "-L", tmux.socket, "kill-server"], capture_output=True)
    time.sleep(0.3)
    dump.stop()
    shutil.rmtree(runtime, ignore_errors=True)


def assert_no_kick_lost(events, min_seconds: float, where: str, note: str = "") -> None:
    """The kick on every beat until the engine's All Notes Off, as jack_midi_dump heard it:
    none lost (a --no-realtime jackd on a busy machine may run a cycle late: a quarter of
    a beat of slack)."""
    stop_at = next((i for i, e in enumerate(events) if e.data[:2] == (0xB9, 123)), len(events))
    kicks = [e.frame for e in events[:stop_at] if e.data[0] == 0x99 and e.data[1] == 36
             and e.data[2] > 0]
    quarter = 48000 * 60 / BPM
    played = (kicks[-1] - kicks[0]) / 48000 if kicks else 0.0
    assert played > min_seconds, f"{len(kicks)} kicks over {played:.1f} s"
    gaps = [b - a for a, b in zip(kicks, kicks[1:], strict=False)]
    late = [(round((kicks[i] - kicks[0]) / 48000, 2), round(g / quarter, 2))
            for i, g in enumerate(gaps) if g > quarter * 1.1]
    assert max(gaps) < 1.25 * quarter, (
        f"kick lost {where}: gaps (seconds from the first kick, quarters): {late}{note}")
    assert abs(len(kicks) - 1 - round((kicks[-1] - kicks[0]) / quarter)) <= 1


def host_env(jack, runtime: Path, tmp_path: Path) -> tuple[dict, str]:
    """The environment of a test's hosts and apps (its JACK server, runtime, config and
    data folders), and the same as `K=V ...` for a shell line (a user's profile)."""
    env = {**os.environ, **jack.env(), p.RUNTIME_ENV: str(runtime),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    exports = " ".join(f"{k}={shlex.quote(env[k])}" for k in (
        "JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER", p.RUNTIME_ENV, "XDG_CONFIG_HOME",
        "XDG_DATA_HOME", "PYTHONPATH"))
    return env, exports
