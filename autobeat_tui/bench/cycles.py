"""`autobeat bench app --part cycles`: attach and detach while the host plays (issue 12).

A host plays closed hats on every 16th at 174 BPM to jack_midi_dump on a JACK dummy
server of its own. Then --cycles times, `autobeat attach` opens in a pseudo-terminal,
draws the host's grid, and goes: by ^q (detach) in one cycle, by its terminal
closing under it (SIGHUP, as a killed tmux session or a dropped SSH link) in the
next. jack_midi_dump's frame times of every note-on are then set against the 16th
grid (a straight line fitted to them, so the dummy server's clock rate does not
count): notes lost (16ths the engine played against note-ons heard), notes the engine
sent late (issue 4's measure, in the engine), and how far each lands from the grid
by jackd's frame times (only meaningful on a realtime server: a --no-realtime
dummy server on a busy machine misses cycles).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autobeat_tui.bench.app import AppInPty

BPM = 174.0
RATE = 48000
CHH = 42
TARGET_LATE_MS = 2.0  # issue 4: 2 ms, plus one JACK period (the cycle after)


def _fit_errors(frames: list[int]) -> tuple[int, list[float]]:
    """(16ths lost, each note's distance from the fitted grid in ms)."""
    sixteenth = RATE * 60 / BPM / 4
    index = [round((f - frames[0]) / sixteenth) for f in frames]
    lost = (index[-1] + 1) - len(set(index))
    n = len(frames)
    mean_i, mean_f = sum(index) / n, sum(frames) / n
    var = sum((i - mean_i) ** 2 for i in index) or 1.0
    slope = sum((i - mean_i) * (f - mean_f) for i, f in zip(index, frames, strict=True)) / var
    base = mean_f - slope * mean_i
    return lost, [(f - (base + slope * i)) * 1000 / RATE for i, f in zip(index, frames,
                                                                         strict=True)]


def _state(bank: Path) -> dict:
    from autobeat_tui.host import protocol as p
    from autobeat_tui.host.client import HostClient

    with HostClient.connect(p.socket_path(bank), role="watch") as host:
        return host.next_state()


def _late(bank: Path) -> int:
    """Notes the engine sent more than 1 ms after their due time, since Start."""
    return int(_state(bank)["late_events"])


def cycles(count: int, cols: int = 80, rows: int = 24) -> dict:
    from autobeat_tui.host import protocol as p
    from engine.jacktools import JackError, MidiDump, realtime_server

    try:
        jack = realtime_server()  # as issue 4's figures
    except JackError as exc:
        return {"error": str(exc)}
    realtime = jack.realtime
    folder = Path(tempfile.mkdtemp(prefix="ab-cycles-"))
    runtime = Path(tempfile.mkdtemp(prefix="abc"))
    old_runtime = os.environ.get(p.RUNTIME_ENV)
    os.environ[p.RUNTIME_ENV] = str(runtime)
    env = {**os.environ, **jack.env(), p.RUNTIME_ENV: str(runtime), "HOME": str(folder),
           "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}
    bank = folder / "bank.json"
    cli = [sys.executable, "-m", "autobeat_tui.cli"]
    dump = MidiDump(jack.name, "dumper")
    result: dict = {"bpm": BPM, "cycles": count, "jackd_realtime": realtime}
    try:
        done = subprocess.run([*cli, "host", "--bank", str(bank), "--out", "dumper"], env=env,
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            return {"error": done.stderr.strip()}
        subprocess.run([*cli, "send", "--bank", str(bank), f"bpm {BPM:g}", "chh " + "x" * 32,
                        "play"], env=env, capture_output=True, timeout=30, check=True)
        time.sleep(1.0)
        late_before = _late(bank)
        drawn, how = [], []
        for n in range(count):
            app = AppInPty(cols, rows, None, ["attach", "--bank", str(bank)], env)
            drawn.append(app.first_frame())
            if n % 2:  # the terminal goes: the pty closes under the app (SIGHUP)
                how.append("terminal killed")
                app.hang_up()
            else:
                how.append("detached")
                app.close()
            time.sleep(0.2)
        time.sleep(1.0)
        result["late_events"] = _late(bank) - late_before  # issue 4's measure, in the engine
        hosts = subprocess.run([*cli, "hosts"], env=env, capture_output=True, text=True).stdout
        result["host_after"] = hosts.strip()
        subprocess.run([*cli, "send", "--bank", str(bank), "stop"], env=env,
                       capture_output=True, timeout=30)
        time.sleep(0.3)
        end = _state(bank)  # where the engine stopped: every 16th before the one under
        # way there (which may not have sounded) had its hat
        result["sixteenths_played"] = end["bar"] * 16 + end["step"] % 16
    finally:
        subprocess.run([*cli, "stop", "--bank", str(bank)], env=env, capture_output=True,
                       timeout=30)
        dump.stop()
        jack.stop()
        if old_runtime is None:
            os.environ.pop(p.RUNTIME_ENV, None)
        else:
            os.environ[p.RUNTIME_ENV] = old_runtime
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)
    events = dump.snapshot()
    notes_off = [e for e in events if e.data[:2] == (0xB9, 123)]
    frames = [e.frame for e in events if e.data[0] == 0x99 and e.data[1] == CHH and e.data[2]]
    timed = [d for d in drawn if d is not None]
    result["attach_first_frame_s"] = {
        "median": round(statistics.median(timed), 3) if timed else None,
        "max": round(max(timed), 3) if timed else None, "missed": len(drawn) - len(timed)}
    result["ways"] = {w: how.count(w) for w in set(how)}
    if len(frames) < 16:
        result["error"] = f"jack_midi_dump heard {len(frames)} hats"
        return result
    _, errors = _fit_errors(frames)
    ordered = sorted(abs(e) for e in errors)
    result |= {
        "notes": len(frames),
        "lost": max(0, result["sixteenths_played"] - len(frames)),
        "all_notes_off_while_playing": any(e.frame < frames[-1] for e in notes_off),
        # by jackd's frame times: a --no-realtime dummy server on a busy machine misses
        # cycles, and then its frames stop being time (late_events is the engine's own)
        "off_grid_jack_frames_ms": {"p50": round(ordered[len(ordered) // 2], 2),
                        "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
                        "max": round(ordered[-1], 2)},
        "target_ms": round(TARGET_LATE_MS + 64 * 1000 / RATE, 2),
    }
    return result
