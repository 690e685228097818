"""`autobeat bench app`, the session host's part: attach to first frame, send round trip.

A host is started for a temporary bank (its own runtime folder and HOME), with a
ride hit on step 1 so the first frame that shows the host's state can be told from
the app's empty frame before it. Then:

1. attach to first frame: `autobeat attach` in a pty until the grid shows the host's
   pattern (target 0.5 s), --starts times (each detaches with ^q); and plain
   `autobeat` on a bank no host plays (a host starts while the app gets ready, and
   the app draws the host's grid; the app's first-frame target, 1.0 s);
2. send round trip: a command line to the host and its answer back over the socket
   (target p50 20 ms), --sends times; and, for scale, whole `autobeat send`
   processes (Python start-up included), a tenth as many.
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

from autobeat_tui.bench.app import LAST_ROW, AppInPty

ATTACH_TARGET_S = 0.5
SEND_TARGET_MS = 20.0


def _stats(values: list[float], digits: int = 2) -> dict:
    ok = sorted(values)
    if not ok:
        return {"n": 0}
    p95 = ok[min(len(ok) - 1, int(round(0.95 * (len(ok) - 1))))]
    return {"n": len(ok), "p50": round(statistics.median(ok), digits),
            "p95": round(p95, digits), "max": round(ok[-1], digits)}


def _frames(frames: list[float | None]) -> dict:
    timed = [f for f in frames if f is not None]
    return {"runs": [round(f, 3) if f is not None else None for f in frames],
            "median": round(statistics.median(timed), 3) if timed else None,
            "max": round(max(timed), 3) if timed else None}


def host_figures(cols: int, rows: int, model: str | None, starts: int, sends: int) -> dict:
    from autobeat_tui.host import protocol as p
    from autobeat_tui.host.client import HostClient

    folder = Path(tempfile.mkdtemp(prefix="ab-host-bench-"))
    runtime = Path(tempfile.mkdtemp(prefix="abh"))  # short: a socket path's limit
    env = {**os.environ, p.RUNTIME_ENV: str(runtime), "HOME": str(folder),
           "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}
    bank = folder / "bank.json"
    cli = [sys.executable, "-m", "autobeat_tui.cli"]
    started = subprocess.run([*cli, "host", "--bank", str(bank), "--out", "none",
                              *(["--model", model] if model else [])],
                             env=env, capture_output=True, text=True, timeout=60)
    if started.returncode != 0:
        return {"error": started.stderr.strip()}
    old = os.environ.get(p.RUNTIME_ENV)
    os.environ[p.RUNTIME_ENV] = str(runtime)
    result: dict = {}
    try:
        sock = p.socket_path(bank)
        with HostClient.connect(sock) as host:
            host.run("hit ride 1")
            trips = []
            for i in range(sends):
                t = time.perf_counter()
                ok, _ = host.run(f"swing {50 + i % 2}")
                trips.append((time.perf_counter() - t) * 1000)
                assert ok
        result["send_round_trip_ms"] = {**_stats(trips), "target_p50": SEND_TARGET_MS}
        whole = []
        for i in range(max(2, sends // 10)):
            t = time.perf_counter()
            subprocess.run([*cli, "send", "--bank", str(bank), f"bpm {120 + i % 2}"],
                           env=env, capture_output=True, timeout=30, check=True)
            whole.append((time.perf_counter() - t) * 1000)
        result["send_process_ms"] = _stats(whole, 1)
        frames = []
        for _ in range(starts):
            app = AppInPty(cols, rows, None, ["attach", "--bank", str(bank)], env)
            try:
                frames.append(app.first_frame())
            finally:
                app.close()  # ^q: detach
        result["attach_first_frame_s"] = {**_frames(frames), "target": ATTACH_TARGET_S}
        # plain `autobeat` on a bank no host plays: a host starts, the app waits for it
        starts_ = []
        for n in range(starts):
            fresh = folder / f"fresh{n}.json"
            app = AppInPty(cols, rows, None, ["--bank", str(fresh), "--out", "none"], env)
            try:
                buffer = b""
                got = None
                while time.perf_counter() - app.started < 15:
                    buffer += app.read(0.01)
                    if LAST_ROW in buffer and b" detach" in buffer:  # the key bar
                        got = time.perf_counter() - app.started
                        break
                starts_.append(got)
            finally:
                app.close()
                subprocess.run([*cli, "stop", "--bank", str(fresh)], env=env,
                               capture_output=True, timeout=30)
        result["start_host_and_app_first_frame_s"] = {**_frames(starts_), "target": 1.0}
    finally:
        subprocess.run([*cli, "stop", "--bank", str(bank)], env=env, capture_output=True,
                       timeout=30)
        if old is None:
            os.environ.pop(p.RUNTIME_ENV, None)
        else:
            os.environ[p.RUNTIME_ENV] = old
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)
    return result
