"""`autobeat bench app --part timing`: issue 4's timing targets under a session host
while one app stays attached and a second attaches and goes, again and again (issue 12).

A session host (HostServer, HostCore and the engine's own process, as `autobeat host`
runs them; here in this process, so its engine's TimingReport can be read) plays
bench/timing.py's busy beat at --bpm to jack_midi_dump on a JACK dummy server of its
own, with clock out. Meanwhile:

- one `autobeat attach` stays attached in a pseudo-terminal for the whole run (it
  redraws the playhead every 16th);
- a second `autobeat attach` starts, draws the host's grid and goes, over and over:
  by ^q in one cycle, by its terminal closing under it (SIGHUP) in the next;
- the host's model writes the hats again and again (`gen 2`, sent as a client does),
  when a model loads (--model none: no model).

Then the engine's own measure, as `autobeat bench timing` takes it: note lateness
(send time minus due time of every note-on) p50/p99/max (targets p99 <= 1 ms,
max <= 3 ms), drift of the last note against t0 + its tick x the tick length, and the
standard deviation of the clock ticks' intervals (<= 0.15 ms).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from autobeat_tui.bench.app import AppInPty

CYCLE_PAUSE_S = 0.3  # between one attach's going and the next one's start


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _keep_reading(app: AppInPty, stop: threading.Event) -> None:
    while not stop.is_set():
        app.read(0.05)


def host_timing(seconds: float = 60.0, bpm: float = 174.0, cols: int = 80, rows: int = 24,
                model: str | None = None) -> dict:
    from autobeat_tui.bench.timing import bench_pattern, issue4_figures
    from autobeat_tui.host import protocol as p
    from autobeat_tui.host.client import HostClient
    from autobeat_tui.host.core import HostCore
    from autobeat_tui.host.recovery import Recovery
    from autobeat_tui.host.server import HostServer
    from autobeat_tui.live.session import Session
    from engine import messages as m
    from engine.client import Engine
    from engine.jacktools import JackError, MidiDump, realtime_server
    from patterns.bank import Bank, save_bank

    try:
        jack = realtime_server()  # as issue 4's figures
    except JackError as exc:
        return {"error": f"a JACK server is needed: {exc}"}
    folder = Path(tempfile.mkdtemp(prefix="ab-host-timing-"))
    runtime = Path(tempfile.mkdtemp(prefix="abt"))  # short: a socket path's limit
    saved_env = {k: os.environ.get(k) for k in (
        p.RUNTIME_ENV, "JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER", "XDG_CONFIG_HOME")}
    os.environ.update({p.RUNTIME_ENV: str(runtime), **jack.env(),
                       "XDG_CONFIG_HOME": str(folder / "config")})
    env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder / "data")}
    bank = folder / "bank.json"
    result: dict = {"seconds": seconds, "bpm": bpm,
                    "jackd": "realtime" if jack.realtime else "no-realtime"}
    dump = MidiDump(jack.name, "bench-host")
    engine = Engine(out=dump.name, send_clock=True, record=True)
    session = Session(bench_pattern(), bank=Bank(), bank_path=bank, save_bank=save_bank,
                      rng=random.Random(4))

    def load_model():
        from autobeat_tui.commands._options import model_threads
        from models.runner import BeatModel

        return BeatModel.load(model, n_threads=model_threads())

    core = HostCore(session, engine, None if model == "none" else load_model,
                    recovery=Recovery(bank))
    reports: list = []
    plain = core.link.on_report

    def on_report(report) -> None:  # the engine's TimingReport is this bench's
        if isinstance(report, m.TimingReport):
            reports.append(report)
        else:
            plain(report)

    core.link.on_report = on_report
    server = HostServer(core, p.socket_path(bank), {"bank": str(bank), "pid": os.getpid()})
    server.open()
    core.start()
    serving = threading.Thread(target=server.serve, name="host", daemon=True)
    serving.start()
    watcher: AppInPty | None = None
    stop_gen = threading.Event()
    try:
        _wait(lambda: session.engine.output == dump.port, 15, f"the engine on {dump.port}")
        with HostClient.connect(p.socket_path(bank)) as control:
            ok, text = control.run(f"bpm {bpm:g}")
            assert ok, text
            watcher = AppInPty(cols, rows, None, ["attach", "--bank", str(bank)], env)
            result["watcher_first_frame_s"] = watcher.first_frame()
            reading = threading.Thread(target=_keep_reading, args=(watcher, stop_gen),
                                       name="watcher", daemon=True)
            reading.start()  # its terminal is read all along, as a real one is
            _wait(lambda: core.model is not None or core.model_status != "loading…", 120,
                  "the model")
            result["model"] = core.model_status
            ok, text = control.run("play")
            assert ok, text
        gens = 0

        def generate() -> None:  # the hats again and again, while a model is there
            nonlocal gens
            if core.model is None:
                return
            with HostClient.connect(p.socket_path(bank)) as sender:
                while not stop_gen.wait(0.25):
                    if not core.generating and sender.run("gen 2")[0]:
                        gens += 1

        generating = threading.Thread(target=generate, name="gen", daemon=True)
        generating.start()
        end = time.monotonic() + seconds
        frames, ways = [], []
        while time.monotonic() < end:
            second = AppInPty(cols, rows, None, ["attach", "--bank", str(bank)], env)
            frames.append(second.first_frame())
            if len(ways) % 2:  # its terminal goes under it (SIGHUP)
                ways.append("terminal killed")
                second.hang_up()
            else:
                ways.append("detached")
                second.close()
            time.sleep(CYCLE_PAUSE_S)
        stop_gen.set()
        generating.join(10)
        core._hand_over(lambda: session.outbox.append(m.RequestTiming()))
        _wait(lambda: bool(reports), 30, "the engine's timing report")
        with HostClient.connect(p.socket_path(bank)) as control:
            control.run("stop")
        timed = [f for f in frames if f is not None]
        result |= {
            "attach_cycles": len(frames),
            "ways": {w: ways.count(w) for w in sorted(set(ways))},
            "second_attach_first_frame_s": {
                "median": round(statistics.median(timed), 3) if timed else None,
                "max": round(max(timed), 3) if timed else None,
                "missed": len(frames) - len(timed)},
            "generations_asked": gens,
        }
    finally:
        stop_gen.set()
        if watcher is not None:
            time.sleep(0.1)  # its reader stops
            watcher.close()
        server.stop("bench")
        serving.join(10)
        server.close()
        core.close()
        dump.stop()
        jack.stop()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)
    timing = reports[0]
    figures = issue4_figures(timing, bpm)
    result |= {
        **figures,
        "engine_scheduling": timing.realtime,
        "targets_met": {
            "lateness_p99_le_1ms": figures["lateness_ms"]["p99"] <= 1.0,
            "lateness_max_le_3ms": figures["lateness_ms"]["max"] <= 3.0,
            "drift_le_1ms": abs(figures["drift_ms"]) <= 1.0,
            "clock_tick_sd_le_0_15ms": (figures["clock_tick_sd_ms"] or 0.0) <= 0.15,
        },
    }
    return result
