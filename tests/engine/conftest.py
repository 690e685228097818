"""Fixtures for the engine tests: a fake clock and port, and a real JACK server.

The `jack` fixture starts ``jackd --no-realtime -d dummy -r 48000 -p 64`` under a
server name of its own for the whole session (`jack_at_period`: one at 256 and one
at 1024 frames a period, each under its own name, for one test), points every client (ours,
jack_midi_dump, jack_midi_clock) at it through JACK_DEFAULT_SERVER, waits until
it answers and stops it at the end. Without jackd the JACK tests skip, except
under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
from engine_fakes import FakeClock, RecordingPort

from engine.jacktools import reclaim_stale_servers, terminate

JACK_ARGS = ["--no-realtime", "-d", "dummy", "-r", "48000", "-p", "64"]


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def port(fake_clock: FakeClock) -> RecordingPort:
    return RecordingPort(fake_clock)


def _need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is not installed (CI installs jackd2 and jack-midi-clock)")
        pytest.skip(f"{binary} is not installed")
    return path


@contextlib.contextmanager
def _jackd(period: int = 64) -> Iterator[str]:
    """``jackd --no-realtime -d dummy`` at `period` frames, under a name of its own."""
    jackd = _need("jackd")
    name = f"autobeat-test-{uuid.uuid4().hex[:8]}"
    args = [*JACK_ARGS[:-1], str(period)]
    proc = subprocess.Popen([jackd, "-n", name, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}
    reclaimed = False
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                if "Too many servers" in err and not reclaimed and reclaim_stale_servers():
                    # servers killed earlier held jack2's registry: freed, once more
                    reclaimed = True
                    proc = subprocess.Popen([jackd, "-n", name, *args],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                            start_new_session=True)
                    continue
                pytest.fail(f"jackd exited with {proc.returncode}: {err[-500:]}")
            ok = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True, env=env)
            if "running" in ok.stdout and "not" not in ok.stdout:
                break
            if time.monotonic() > deadline:
                pytest.fail("jackd did not come up within 15 s")
            time.sleep(0.1)
        yield name
    finally:
        terminate(proc, timeout=15.0)  # killed, jackd would stay in jack2's registry


@contextlib.contextmanager
def _default_server(name: str) -> Iterator[None]:
    """Point every JACK client of this process (and its children) at server `name`."""
    old = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def jack():
    """A running JACK dummy server (64 frames a period) for this session; yields its name."""
    with _jackd() as name, _default_server(name):
        yield name


@pytest.fixture(params=[256, 1024])
def jack_at_period(request):
    """A JACK dummy server of its own at 256 or 1024 frames a period: (name, period).

    Every JACK client of the test points at it while it runs (the session's server
    is the default again afterwards).
    """
    with _jackd(request.param) as name, _default_server(name):
        yield name, request.param
