"""`autobeat bench app`: how fast the real app answers, in a real terminal (a pty).

1. First frame: from starting `autobeat` to the whole grid on screen (target 1.0 s),
   repeated --starts times; the model loads after it.
2. Key to screen: the time from writing a key that edits the grid (x: set or clear
   the hit under the cursor) to the terminal receiving the redrawn cells (target
   50 ms), first idle, then while the model generates (``:gen 2`` typed again as
   soon as one ends, so it never rests). Samples taken when a generation ended
   meanwhile are left out, so each sample is an edit made while the model runs.

Each start uses a temporary HOME and bank, so the user's bank is never touched.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

FIRST_FRAME_TARGET_S = 1.0
KEY_TARGET_MS = 50.0
LAST_ROW = b"ride"  # the last track row: the whole grid is drawn
HIT_GLYPH = "▆".encode()  # x sets velocity 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--starts", type=int, default=5, help="app starts to time (default 5)")
    parser.add_argument("--keys", type=int, default=40, help="key presses per phase (default 40)")
    parser.add_argument("--size", default="80x24", help="terminal size, COLSxROWS (default 80x24)")
    parser.add_argument("--model", metavar="FILE", help="the GGUF model (default: the shipped one)")
    parser.add_argument("--part", choices=("all", "app", "host", "cycles", "timing"),
                        default="all",
                        help="app: the app in its own process; host: attached to a session "
                        "host and `send`; all: both (default); cycles: --cycles attach and "
                        "detach (or terminal killed) while a host plays to JACK; timing: "
                        "issue 4's timing targets under a host for --seconds while one app "
                        "stays attached and a second attaches and goes")
    parser.add_argument("--cycles", type=int, default=20,
                        help="attach/detach cycles for --part cycles (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the --part timing run (default 60)")
    parser.add_argument("--sends", type=int, default=200,
                        help="command lines sent to a session host for the round trip (200)")


def _own_terminal() -> None:
    """In the child: a session of its own with the pty as its controlling terminal."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class AppInPty:
    """The real `autobeat` in a pseudo-terminal of a given size."""

    def __init__(self, cols: int, rows: int, model: str | None,
                 args: list[str] | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="autobeat-bench-"))
        exe = shutil.which("autobeat")
        cmd = [exe] if exe else [sys.executable, "-m", "autobeat_tui.cli"]
        # the app in its own process (--here); bench/host.py times it on a host
        cmd += args if args is not None else ["--bank", str(self.home / "bank.json"), "--out",
                                              "none", "--here"]
        if model:
            cmd += ["--model", model]
        env = {
            **os.environ,
            **(extra_env or {}),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "TERM": "xterm-256color",
            "COLUMNS": str(cols),
            "LINES": str(rows),
        }
        env.pop("NO_COLOR", None)
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=_own_terminal,  # as in a real terminal: closing it sends SIGHUP
            close_fds=True,
        )
        os.close(slave)
        self.seen = b""

    def read(self, timeout: float) -> bytes:
        """What the app wrote within `timeout` seconds (b"" if nothing)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return b""
        self.seen = (self.seen + data)[-200_000:]
        return data

    def wait_for(self, needle: bytes, timeout: float) -> float | None:
        """Seconds until `needle` is in the output (from now), or None."""
        start = time.perf_counter()
        buffer = b""
        while time.perf_counter() - start < timeout:
            buffer += self.read(0.05)
            if needle in buffer:
                return time.perf_counter() - start
        return None

    def first_frame(self, timeout: float = 10.0) -> float | None:
        """Seconds from the start until a whole grid with hits is drawn, or None."""
        buffer = b""
        while time.perf_counter() - self.started < timeout:
            buffer += self.read(0.01)
            if LAST_ROW in buffer and HIT_GLYPH in buffer:
                return time.perf_counter() - self.started
        return None

    def drain(self, quiet: float = 0.15) -> bytes:
        """Read until the app has been quiet for `quiet` seconds."""
        out = b""
        while True:
            data = self.read(quiet)
            if not data:
                return out
            out += data

    def key(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> int | None:
        try:
            self.key(b"\x11")  # ctrl+q
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        finally:
            os.close(self.master)
            shutil.rmtree(self.home, ignore_errors=True)
        return self.proc.returncode

    def hang_up(self) -> None:
        """The terminal goes: the pty closes under the app (SIGHUP), as a closed window
        or a dropped SSH connection does."""
        os.close(self.master)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        shutil.rmtree(self.home, ignore_errors=True)


def first_frame(cols: int, rows: int, model: str | None) -> float | None:
    app = AppInPty(cols, rows, model)
    try:
        buffer = b""
        while time.perf_counter() - app.started < 10:
            buffer += app.read(0.02)
            if LAST_ROW in buffer and b" quit" in buffer:  # the grid and the footer
                return time.perf_counter() - app.started
        return None
    finally:
        app.close()


def _edit_latency(app: AppInPty, expect_hit: bool, timeout: float = 1.0) -> tuple[float, bytes]:
    """Press x; seconds until the edited cell reaches the terminal, and what came."""
    start = time.perf_counter()
    app.key(b"x")
    buffer = b""
    while time.perf_counter() - start < timeout:
        buffer += app.read(0.01)
        if buffer and (HIT_GLYPH in buffer) == expect_hit and (expect_hit or b"cleared" in buffer):
            return time.perf_counter() - start, buffer
    return float("nan"), buffer


def key_latencies(cols: int, rows: int, model: str | None, keys: int) -> dict:
    app = AppInPty(cols, rows, model)
    result: dict = {}
    try:
        if app.wait_for(LAST_ROW, 10) is None:
            raise RuntimeError("the app did not draw its first frame")
        # wait for the model to load (or fail), so loading does not count as generating
        deadline = time.perf_counter() + 120
        model_state = "missing"
        while time.perf_counter() < deadline:
            app.drain(0.2)
            tail = app.seen[-20_000:].decode("utf-8", "replace")
            if "loading" not in tail.split("model")[-1][:20]:
                model_state = "missing" if "model missing" in tail else "loaded"
                break
        result["model"] = model_state
        app.key(b"1")  # group 1, cursor on kick step 1 (empty in a new bank)
        app.drain()
        idle = []
        for i in range(keys):
            latency, _ = _edit_latency(app, expect_hit=i % 2 == 0)
            idle.append(latency * 1000)
            app.drain(0.05)
        result["idle_ms"] = _summary(idle)
        if model_state != "loaded":
            result["generating_ms"] = None
            result["note"] = "no model loaded: latency while generating not measured"
            return result
        # the model writes the hats again and again (typed, so the cursor stays on the
        # kick); each sample is an edit of the kick made while a generation runs
        busy: list[float] = []
        left_out = 0
        hit = True
        generating = False
        end = time.perf_counter() + 180
        while len(busy) < keys and time.perf_counter() < end:
            if not generating:
                app.key(b":gen 2\r")
                seen = b""
                started = time.perf_counter()
                while b"generating " not in seen and time.perf_counter() - started < 1.0:
                    seen += app.read(0.005)
                generating = _generating(seen, False)
                continue
            latency, data = _edit_latency(app, expect_hit=hit)
            hit = not hit
            generating = _generating(data, generating)
            if not generating or latency != latency:  # it finished meanwhile, or lost
                left_out += 1
                continue
            busy.append(latency * 1000)
        result["generating_ms"] = _summary(busy)
        result["generating_left_out"] = left_out
        return result
    finally:
        result["exit_code"] = app.close()


def _generating(data: bytes, before: bool) -> bool:
    """Whether a generation runs after this output (the message line says so)."""
    started, finished = data.rfind(b"generating "), data.rfind(b"generated ")
    if started < 0 and finished < 0:
        return before
    return started > finished


def _summary(values: list[float]) -> dict:
    ok = sorted(v for v in values if v == v)
    if not ok:
        return {"n": 0, "lost": len(values)}
    p95 = ok[min(len(ok) - 1, int(round(0.95 * (len(ok) - 1))))]
    return {
        "n": len(ok),
        "median": round(statistics.median(ok), 1),
        "p95": round(p95, 1),
        "max": round(ok[-1], 1),
        "lost": len(values) - len(ok),
        "within_target": sum(v <= KEY_TARGET_MS for v in ok),
    }


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError

    try:
        cols, rows = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise UserError(f"--size must be COLSxROWS like 80x24, got {args.size!r}") from None
    if args.starts < 1 or args.keys < 2:
        raise UserError("--starts must be at least 1 and --keys at least 2")
    result: dict = {"size": f"{cols}x{rows}"}
    if args.part in ("all", "app"):
        frames = [first_frame(cols, rows, args.model) for _ in range(args.starts)]
        timed = [f for f in frames if f is not None]
        result |= {
            "first_frame_s": {
                "runs": [round(f, 3) if f is not None else None for f in frames],
                "median": round(statistics.median(timed), 3) if timed else None,
                "max": round(max(timed), 3) if timed else None,
                "target": FIRST_FRAME_TARGET_S,
            },
            "key_to_screen": key_latencies(cols, rows, args.model, args.keys),
            "key_target_ms": KEY_TARGET_MS,
        }
    if args.part in ("all", "host"):
        from autobeat_tui.bench.host import host_figures

        result["host"] = host_figures(cols, rows, args.model, args.starts, args.sends)
    if args.part == "cycles":
        from autobeat_tui.bench.cycles import cycles

        result["cycles"] = cycles(args.cycles, cols, rows)
    if args.part == "timing":
        from autobeat_tui.bench.host_timing import host_timing

        if args.seconds <= 0:
            raise UserError(f"--seconds must be above 0, got {args.seconds:g}")
        result["timing_under_host"] = host_timing(args.seconds, cols=cols, rows=rows,
                                                  model=args.model)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0
