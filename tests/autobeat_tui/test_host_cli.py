"""`autobeat host / send / hosts / stop` as a user runs them: real processes, the real
engine (no output), the shipped model, a real socket."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autobeat_tui.host import protocol as p
from autobeat_tui.live import language as lang
from patterns.bank import load_bank

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    runtime = Path(tempfile.mkdtemp(prefix="abrt"))
    environ = {
        **os.environ,
        p.RUNTIME_ENV: str(runtime),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }
    started: list[int] = []
    yield environ, started
    for pid in started:  # whatever a failed test left running
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(runtime, ignore_errors=True)


def autobeat(environ, *args, stdin: str | None = None, timeout: float = 60.0):
    return subprocess.run([sys.executable, "-m", "autobeat_tui.cli", *args], env=environ,
                          input=stdin, capture_output=True, text=True, timeout=timeout)


def start_host(environ, started, bank: Path) -> int:
    done = autobeat(environ, "host", "--bank", str(bank), "--out", "none")
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split("(pid ")[1].split(")")[0])
    started.append(pid)
    return pid


def runtime_socket(environ, bank: Path) -> Path:
    return Path(environ[p.RUNTIME_ENV]) / f"host-{p.bank_key(bank)}.sock"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_send_hosts_stop_and_bad_input(env, tmp_path):
    environ, started = env
    bank = tmp_path / "set.json"
    none = autobeat(environ, "send", "--bank", str(bank), "play")
    assert (none.returncode, none.stdout) == (2, "")
    assert none.stderr.strip().splitlines() == [
        f"autobeat send: no host is running for {bank} (autobeat host --bank {bank} starts one)"]

    pid = start_host(environ, started, bank)
    from autobeat_tui.host.client import HostClient

    with HostClient.connect(runtime_socket(environ, bank), role="info") as host:
        assert host.info["options"] == {"out": "none"}  # as given: a second autobeat compares
    twice = autobeat(environ, "host", "--bank", str(bank), "--out", "none", "--foreground")
    assert twice.returncode == 2 and len(twice.stderr.strip().splitlines()) == 1
    assert str(pid) in twice.stderr  # the bank lock names its holder

    sent = autobeat(environ, "send", "--bank", str(bank), "bpm 132", "hit kick 1")
    assert (sent.returncode, sent.stdout) == (0, "tempo 132 BPM\nkick step 1: velocity 100\n")
    with pytest.raises(lang.CommandError) as app_error:
        lang.parse("swing lots")
    bad = autobeat(environ, "send", "--bank", str(bank), "swing lots", "bpm 90")
    assert (bad.returncode, bad.stderr) == (2, f"{app_error.value}\n")
    piped = autobeat(environ, "send", "--bank", str(bank), "-",
                     stdin="# a comment\n:bpm 140\n\nplay\n")
    assert (piped.returncode, piped.stdout) == (0, "tempo 140 BPM\nplaying\n")
    selection = autobeat(environ, "send", "--bank", str(bank), "swing 52\n# x\n  :mute 2\n")
    assert selection.stdout == "swing 52%\ntrack 2 rim: mute on\n"  # an editor's selection

    listed = autobeat(environ, "hosts")
    assert listed.stdout.startswith(f"{bank}  pid {pid}  0 clients  playing  slot A01")

    os.kill(pid, signal.SIGHUP)  # the terminal went: the host plays on
    time.sleep(0.3)
    assert alive(pid)
    assert autobeat(environ, "send", "--bank", str(bank), "bpm").returncode == 2
    assert autobeat(environ, "send", "bpm 150").stdout == "tempo 150 BPM\n"  # the only host

    stopped = autobeat(environ, "stop", "--bank", str(bank))
    assert (stopped.returncode, stopped.stdout) == (0, f"{bank}: host stopped; music off\n")
    end = time.monotonic() + 10
    while alive(pid):
        assert time.monotonic() < end
        time.sleep(0.05)
    assert autobeat(environ, "hosts").stdout == "no host is running\n"
    assert not bank.exists()  # stop saves nothing the user did not ask for


def test_kill_9_then_the_next_host_brings_the_work_back(env, tmp_path):
    environ, started = env
    bank = tmp_path / "set.json"
    pid = start_host(environ, started, bank)
    lines = ["hit kick 1", "hit snare 5", "hit kick 9", "undo", "gen 2 seed=3"]
    sent = autobeat(environ, "send", "--bank", str(bank), *lines)
    assert sent.returncode in (0, 2), sent.stderr
    if sent.returncode == 2:  # the model was still loading: generation is the last line
        assert "the model is still loading" in sent.stderr
    time.sleep(1.0)  # the generation lands (or not): the recovery file follows either way
    before = autobeat(environ, "send", "--bank", str(bank), "hit snare 7")
    assert before.returncode == 0
    os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 10
    while alive(pid):
        assert time.monotonic() < end
        time.sleep(0.05)
    recovered = load_bank(tmp_path / "set.recovery.json").bank.slots["A01"]
    assert {(e.step, e.track) for e in recovered.events} >= {(0, 1), (4, 3), (6, 3)}
    assert (8, 1) not in {(e.step, e.track) for e in recovered.events}  # it was undone

    gone = autobeat(environ, "send", "--bank", str(bank), "play")
    assert gone.returncode == 2 and "no host is running" in gone.stderr

    pid = start_host(environ, started, bank)
    said = autobeat(environ, "send", "--bank", str(bank), "messages").stdout
    assert "the unsaved pattern of A01 from the last session is back" in said
    assert autobeat(environ, "send", "--bank", str(bank), "undo").stdout == "undone\n"
    assert autobeat(environ, "stop", "--bank", str(bank)).returncode == 0


def test_bench_app_host_part_measures_attach_and_send(tmp_path, monkeypatch):
    from autobeat_tui.bench.host import host_figures

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    figures = host_figures(80, 24, None, starts=1, sends=10)
    trip = figures["send_round_trip_ms"]
    assert trip["n"] == 10 and 0 < trip["p50"] <= trip["p95"] <= trip["max"]
    assert figures["send_process_ms"]["n"] == 2
    attach = figures["attach_first_frame_s"]
    assert len(attach["runs"]) == 1 and attach["runs"][0] is not None  # the host's grid drawn


def test_a_host_that_cannot_start_says_why_in_one_line(env, tmp_path):
    environ, _ = env
    bank = tmp_path / "set.json"
    done = autobeat(environ, "host", "--bank", str(bank), "--out", "none", "--latency", "500")
    assert (done.returncode, done.stderr) == (
        2, "autobeat host: --latency: latency must be in -100..100 ms, got 500\n")
    plain = autobeat(environ, "--bank", str(bank), "--latency", "500")  # plain `autobeat`
    assert (plain.returncode, plain.stderr) == (
        2, "autobeat app: --latency: latency must be in -100..100 ms, got 500\n")
    assert autobeat(environ, "hosts").stdout == "no host is running\n"


@pytest.mark.skipif(shutil.which("jackd") is None and not os.environ.get("CI"),
                    reason="jackd is not installed (required in CI)")
def test_bench_app_timing_part_measures_the_engine_under_a_host_with_clients(monkeypatch):
    from autobeat_tui.bench.host_timing import host_timing

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    figures = host_timing(3.0, model="none")
    assert figures["attach_cycles"] >= 2 and figures["second_attach_first_frame_s"]["missed"] == 0
    assert figures["watcher_first_frame_s"] is not None  # one app attached all along
    assert figures["notes"] > 20  # 3 s of the busy beat at 174 BPM, heard by the engine
    lateness = figures["lateness_ms"]
    assert 0 <= lateness["p50"] <= lateness["p99"] <= lateness["max"]
    assert set(figures["targets_met"]) == {"lateness_p99_le_1ms", "lateness_max_le_3ms",
                                           "drift_le_1ms", "clock_tick_sd_le_0_15ms"}
