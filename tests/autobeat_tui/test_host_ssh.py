"""Issue 12's "done when", over a real SSH connection on loopback: start a beat in
`autobeat` over `ssh -tt`, drop the connection (the ssh client killed), reconnect,
attach, and find it still playing with everything as it was. JACK (jack_midi_dump)
hears that the music never stopped."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.autobeat_tui import loopback_ssh
from tests.autobeat_tui.test_host_tmux import (
    BPM,
    assert_no_kick_lost,
    grid,
    host_env,
    playing,
    stop_all,
)
from tests.autobeat_tui.test_tui_e2e import TMUX, Tmux

ROOT = Path(__file__).resolve().parents[2]
_MISSING = loopback_ssh.missing() or (
    "tmux and jackd are not installed" if TMUX is None or shutil.which("jackd") is None else "")
pytestmark = pytest.mark.skipif(
    bool(_MISSING) and not os.environ.get("CI"),
    reason=f"{_MISSING} (required in CI: .ci/run installs them)",
)


def undo_depth(env, bank: Path) -> list[int]:
    code = ("import sys; from pathlib import Path; from autobeat_tui.host import protocol as p; "
            "from autobeat_tui.host.client import HostClient; "
            "c = HostClient.connect(p.socket_path(Path(sys.argv[1])), role='watch'); "
            "print(*c.next_state()['undo'])")
    out = subprocess.run([sys.executable, "-c", code, str(bank)], env=env, capture_output=True,
                         text=True, timeout=30)
    return [int(n) for n in out.stdout.split()]


def test_over_ssh_the_beat_survives_a_dropped_connection_and_attach_brings_it_back(tmp_path):
    from engine.jacktools import MidiDump, realtime_server

    jack = realtime_server()  # its frames are the clock here: realtime keeps them time
    runtime = Path(tempfile.mkdtemp(prefix="abrt"))
    with jack, loopback_ssh.LoopbackSshd() as sshd:
        # what the remote shell runs: the same environment, as a user's profile sets it
        env, exports = host_env(jack, runtime, tmp_path)
        dump = MidiDump(jack.name, "dumper")
        bank = tmp_path / "set.json"
        remote = f"cd {shlex.quote(str(ROOT))} && env TERM=xterm-256color {exports} " \
                 f"{shlex.quote(sys.executable)} -m autobeat_tui.cli"
        first, second = Tmux(tmp_path), Tmux(tmp_path)
        try:
            first("new-session", "-d", "-s", "app", "-x", "80", "-y", "30",
                  "exec " + sshd.ssh_line(f"{remote} --bank {bank} --out dumper"))
            first.wait_for(lambda s: "ride" in s and "out dumper" in s, 60)
            first.keys(":", f"bpm {BPM}", "Enter")
            first.keys(":", "kick x...x...x...x...x...x...x...x...", "Enter")
            first.wait_for(lambda s: "kick: 8 hits" in s)
            first.keys(":", "snare ....x.......x.......x.......x...", "Enter")
            first.wait_for(lambda s: "snare: 4 hits" in s)
            first.keys("space")
            before = first.wait_for(playing)
            started = time.monotonic()
            time.sleep(1.0)
            ssh_pid = int(first("display-message", "-p", "-t", "app", "#{pane_pid}").strip())
            os.kill(ssh_pid, signal.SIGKILL)  # the connection drops
            dropped = time.monotonic() - started
            time.sleep(3.0)  # sshd hangs up on the app there; the host plays on
            hosts = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "hosts"],
                                   env=env, capture_output=True, text=True).stdout
            assert f"{bank}  pid" in hosts and "0 clients  playing" in hosts, hosts
            second("new-session", "-d", "-s", "app", "-x", "80", "-y", "30",
                   "exec " + sshd.ssh_line(f"{remote} attach --bank {bank}"))
            second.wait_for(lambda s: playing(s) and grid(s) == grid(before), 60)
            second.wait_for(lambda s: "› snare ....x.......x" in s)  # the messages too
            assert undo_depth(env, bank) == [2, 0]  # and the undo history
            second.keys("C-q")
            second.wait_for(lambda s: "detached: the host of" in s)
            time.sleep(0.5)
        finally:
            stop_all(env, bank, (first, second), dump, runtime)
    assert_no_kick_lost(dump.snapshot(), 5.0, "across the dropped connection and the new attach",
                        f"; the connection dropped about {dropped:.1f} s after play")
