"""Driving JACK's own programs from Python: the server, jack_midi_dump, jack_midi_clock.

Used by the timing benchmark and the tests, which check the engine against
programs no one here wrote: ``jack_midi_dump -a`` prints every event it receives
with its frame time, ``jack_midi_clock`` is an independent clock master and
``jack_transport`` (as timebase master) rolls and stops the transport and sets its
tempo. Everything here runs under one server name (JACK_DEFAULT_SERVER).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass

SAMPLE_RATE = 48000
PERIOD = 64
TOOL_TIMEOUT_S = 10.0  # JACK's command-line tools can hang on a server in trouble
_LINE = re.compile(r"^\s*(\d+):\s+((?:[0-9a-f]{2}\s?)+)")


def terminate(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM a child, SIGKILL it if it does not go within `timeout` seconds, and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)

class JackError(RuntimeError):
    pass


def jack_env(server: str) -> dict[str, str]:
    env = dict(os.environ)
    env["JACK_DEFAULT_SERVER"] = server
    env["JACK_NO_START_SERVER"] = "1"
    return env


def server_running(server: str) -> bool:
    try:
        out = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True,
                             env=jack_env(server), timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return False
    return out.stdout.strip() == "running"


REGISTRY = "/dev/shm/jack-shm-registry"
_SERVERS = 8  # jack2's MAX_SERVERS
_ENTRY = 264  # pid (4) + name (257), padded


def stale_servers(registry: str = REGISTRY) -> list[str]:
    """Servers of ours that died without leaving jack2's registry (killed, not stopped).

    jack2 frees a registry entry only when a server of the same name starts again,
    and it has room for eight: servers under unique names that were killed fill it
    for good ("Too many servers already active"). Read-only: names whose pid is gone.
    """
    try:
        with open(registry, "rb") as fh:
            data = fh.read(24 + _SERVERS * _ENTRY)
    except OSError:
        return []
    prefix = f"jack-{os.getuid()}:"
    names = []
    for i in range(_SERVERS):
        off = 24 + i * _ENTRY
        if off + _ENTRY > len(data):
            break
        pid = int.from_bytes(data[off : off + 4], "little", signed=True)
        name = data[off + 4 : off + 4 + 257].split(b"\0")[0].decode(errors="replace")
        if pid <= 0 or not name.startswith(prefix) or os.path.exists(f"/proc/{pid}"):
            continue
        names.append(name.removeprefix(prefix).removesuffix(":"))
    return names


def reclaim_stale_servers() -> int:
    """Start and cleanly stop a server under each stale name: jack2 frees the entry."""
    freed = 0
    for name in stale_servers():
        if not name.startswith("autobeat-"):
            continue  # only ours
        proc = subprocess.Popen(["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r",
                                 str(SAMPLE_RATE), "-p", str(PERIOD)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 10
        while proc.poll() is None and not server_running(name):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        terminate(proc, timeout=15.0)
        freed += 1
    return freed


class JackServer:
    """``jackd -d dummy`` under a unique name (`period` frames a cycle); a context manager."""

    def __init__(self, realtime: bool = False, name: str | None = None,
                 period: int = PERIOD) -> None:
        if shutil.which("jackd") is None:
            raise JackError("jackd is not installed (Debian package jackd2)")
        self.name = name or f"autobeat-{uuid.uuid4().hex[:8]}"
        self.realtime = realtime
        self.period = period
        rt = ["-R", "-P", "80"] if realtime else ["--no-realtime"]
        self._start(rt, period)
        try:
            self._wait()
        except JackError as exc:
            if "Too many servers" not in str(exc) or not reclaim_stale_servers():
                raise
            self._start(rt, period)  # killed servers held the registry: freed, once more
            self._wait()

    def _start(self, rt: list[str], period: int) -> None:
        self.proc = subprocess.Popen(
            ["jackd", "-n", self.name, *rt, "-d", "dummy", "-r", str(SAMPLE_RATE), "-p",
             str(period)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while not server_running(self.name):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise JackError(f"jackd exited with {self.proc.returncode}: {err[-400:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise JackError("jackd did not come up within 15 s")
            time.sleep(0.1)

    def env(self) -> dict[str, str]:
        return jack_env(self.name)

    def stop(self) -> None:
        terminate(self.proc, timeout=15.0)  # killed, jackd would stay in the registry

    def __enter__(self) -> JackServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True, slots=True)
class Dumped:
    frame: int
    data: tuple[int, ...]


class MidiDump:
    """``jack_midi_dump -a NAME`` in the background, its events collected as they come."""

    def __init__(self, server: str, name: str = "dumper") -> None:
        self.name = name
        self.port = f"{name}:input"
        self.events: list[Dumped] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "jack_midi_dump", "-a", name], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=jack_env(server),
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        wait_for_port(server, self.port)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            match = _LINE.match(line)
            if match:
                data = tuple(int(b, 16) for b in match.group(2).split())
                with self._lock:
                    self.events.append(Dumped(int(match.group(1)), data))

    def snapshot(self) -> list[Dumped]:
        with self._lock:
            return list(self.events)

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    def stop(self) -> None:
        terminate(self.proc)
        self._thread.join(2)


def ports(server: str) -> list[str]:
    try:
        out = subprocess.run(["jack_lsp"], capture_output=True, text=True, env=jack_env(server),
                             timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def wait_for_port(server: str, port: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while port not in ports(server):
        if time.monotonic() > deadline:
            raise JackError(f"JACK port {port!r} did not appear within {timeout:g} s")
        time.sleep(0.05)


def connect(server: str, source: str, destination: str) -> None:
    try:
        out = subprocess.run(["jack_connect", source, destination], capture_output=True,
                             text=True, env=jack_env(server), timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise JackError(f"jack_connect {source} {destination}: no answer") from None
    if out.returncode != 0 and "already" not in out.stderr:
        raise JackError(f"jack_connect {source} {destination}: {out.stderr.strip()}")


class ClockMaster:
    """jack_midi_clock, with jack_transport as timebase master (tempo, SPP, transport).

    jack_midi_clock sends Start when the transport rolls from frame 0, Continue
    otherwise, Stop when it stops, Song Position with both, and clock at the
    timebase master's tempo (the tick period in frames, exact to the sample).
    """

    def __init__(self, server: str, bpm: float, jitter_percent: int = 0) -> None:
        env = jack_env(server)
        self.server = server
        self.transport = subprocess.Popen(
            ["jack_transport"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True, env=env,
        )
        self.command("master")
        self.tempo(bpm)
        self.command("stop")
        self.command("locate 0")
        args = ["jack_midi_clock", "-d", "0"]
        if jitter_percent:
            args += ["-J", str(jitter_percent)]
        self.clock = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=env)
        self.port = "jack_midi_clock:mclk_out"
        wait_for_port(server, self.port)
        time.sleep(0.2)

    def command(self, line: str) -> None:
        assert self.transport.stdin is not None
        self.transport.stdin.write(line + "\n")
        self.transport.stdin.flush()

    def tempo(self, bpm: float) -> None:
        self.command(f"tempo {bpm:g}")

    def play(self) -> None:
        self.command("play")

    def stop(self) -> None:
        self.command("stop")

    def locate(self, frame: int) -> None:
        self.command(f"locate {frame}")

    def close(self) -> None:
        for proc in (self.clock, self.transport):
            terminate(proc)


def realtime_server(period: int = PERIOD) -> JackServer:
    """A JackServer with realtime scheduling where this user may have it (as in a studio:
    on a busy machine its frames stay time), else one without; JackError if neither."""
    try:
        return JackServer(realtime=True, period=period)
    except JackError:
        return JackServer(realtime=False, period=period)
