"""On stage: the JACK server restarted under the engine, and the engine killed.

Both against real JACK servers (dummy driver) and jack_midi_dump. The restart test
starts its own server under a unique name, stops it and starts it again under the
same name, as a user restarting JACK would.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from engine import messages as m
from engine.client import Engine
from engine.jacktools import JackServer, MidiDump, jack_env
from patterns.pattern import Event, Pattern


def hats() -> Pattern:
    return Pattern(events=tuple(Event(s, 5) for s in range(32)) + (Event(0, 1),))


def _wait(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _hanging(events) -> dict[tuple[int, int], int]:
    """(channel, note) of note-ons with no note-off after them."""
    sounding: dict[tuple[int, int], int] = {}
    for data in events:
        kind, key = data[0] & 0xF0, (data[0] & 0x0F, data[1] if len(data) > 1 else 0)
        if kind == 0x90 and data[2] > 0:
            sounding[key] = sounding.get(key, 0) + 1
        elif kind == 0x80 or kind == 0x90:
            sounding.pop(key, None)
        elif kind == 0xB0 and data[1] == 123:  # All Notes Off on that channel
            for k in [k for k in sounding if k[0] == data[0] & 0x0F]:
                sounding.pop(k)
    return sounding


@pytest.fixture
def own_server(monkeypatch):
    yield from _own_server(monkeypatch, 64)


@pytest.fixture(params=[64, 256])
def own_server_at(request, monkeypatch):
    """A JACK server of its own at 64 frames a period (rtmidi's output there) or 256
    (the engine's own JackOutput, engine/jackmidi.py)."""
    yield from _own_server(monkeypatch, request.param)


def _own_server(monkeypatch, period: int):
    pytest.importorskip("rtmidi")
    try:
        server = JackServer(period=period)
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no JACK server here: {exc}")
    for key, value in jack_env(server.name).items():
        if key.startswith("JACK_"):
            monkeypatch.setenv(key, value)
    yield server
    server.stop()


def test_the_engine_comes_back_after_a_jack_restart(own_server_at, tmp_path, capfd):
    own_server = own_server_at
    name = own_server.name
    dump = MidiDump(name)
    log = tmp_path / "engine.log"
    engine = Engine(out="dumper", log_path=str(log))
    engine.start()
    try:
        engine.send(m.SetPattern(hats(), at="now"))
        engine.send(m.SetTempo(120))
        engine.send(m.Transport("start"))
        assert _wait(lambda: len(dump.snapshot()) > 4, 10), "the engine played nothing"
        dump.stop()
        own_server.stop()
        reports: list = []
        assert _wait(lambda: any("waiting for it to come back" in getattr(r, "message", "")
                                 for r in reports + engine.poll()) or _collect(engine, reports),
                     5), f"no word of the server going: {reports[-3:]}, alive {engine.alive}"
        # the same name again, as a user restarting JACK does
        server = JackServer(name=name, period=own_server.period)
        try:
            back = time.monotonic()
            dump = MidiDump(name)
            assert _wait(lambda: any(e.data[0] == 0x99 for e in dump.snapshot()), 2.0), (
                "the engine did not play into the new server within 2 s of its return")
            took = time.monotonic() - back
            assert took < 2.0
            seen: list = []

            def reconnected() -> bool:
                seen.extend(r for r in engine.poll() if isinstance(r, m.EngineState))
                return any(st.playing and st.output == "dumper:input" for st in seen)

            assert _wait(reconnected, 2.0), seen[-2:]
        finally:
            dump.stop()
            engine.stop()
            server.stop()
        # JACK's complaints went to the engine's log, not to the terminal
        assert "Cannot read socket" in log.read_text() or "read fail" in log.read_text()
        assert "Cannot read socket" not in capfd.readouterr().err
    finally:
        engine.stop()


def _collect(engine: Engine, into: list) -> bool:
    got = engine.poll()
    into.extend(got)
    return any("waiting for it to come back" in getattr(r, "message", "") for r in got)


def test_a_killed_engine_leaves_no_note_hanging(own_server_at):
    own_server = own_server_at
    dump = MidiDump(own_server.name)
    engine = Engine(out="dumper")
    engine.start()
    try:
        engine.send(m.SetPattern(hats(), at="now"))
        engine.send(m.SetTempo(240))
        engine.send(m.Transport("start"))
        # kill it right after a note-on, while the note rings (gate: half a step)
        assert _wait(lambda: any(e.data[0] == 0x99 for e in dump.snapshot()), 10)
        assert _wait(lambda: bool(_hanging([e.data for e in dump.snapshot()])), 5)
        os.kill(engine.pid, signal.SIGKILL)
        assert _wait(lambda: not engine.alive, 5)
        ringing = _hanging([e.data for e in dump.snapshot()])
        assert engine.panic("dumper:input") is True
        assert _wait(lambda: not _hanging([e.data for e in dump.snapshot()]), 2), ringing
        # every note-on has its note-off, through JACK
        assert _hanging([e.data for e in dump.snapshot()]) == {}
        # and a new engine plays again
        before = len(dump.snapshot())
        engine.restart()
        engine.send(m.SetPattern(hats(), at="now"))
        engine.send(m.Transport("start"))
        assert _wait(lambda: len(dump.snapshot()) > before + 2, 10)
    finally:
        engine.stop()
        dump.stop()




def _connected(server: str, port: str) -> list[str]:
    """The ports ``port`` is connected to (jack_lsp -c)."""
    import subprocess

    out = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True, timeout=10,
                         env=jack_env(server)).stdout
    found, current = [], None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            current = line.strip()
        elif current == port:
            found.append(line.strip())
    return found


def test_the_clock_input_comes_back_after_a_jack_restart(own_server):
    """Following jack_midi_clock: within 2 s of the server's (and the clock's) return
    the engine is connected to the new clock again, and follows its Start."""
    from engine.jacktools import ClockMaster, connect

    name = own_server.name
    dump = MidiDump(name)
    master = ClockMaster(name, 120.0)
    engine = Engine(out="dumper", clock_in="jack_midi_clock", external=True)
    engine.start()
    server = None
    try:
        engine.send(m.SetPattern(hats(), at="now"))
        time.sleep(1.0)  # the engine connects to the clock
        master.play()
        assert _wait(lambda: any(e.data[0] == 0x99 for e in dump.snapshot()), 10), (
            "the engine did not follow the clock")
        master.close()
        dump.stop()
        own_server.stop()
        time.sleep(1.0)
        server = JackServer(name=name)
        dump = MidiDump(name)
        master = ClockMaster(name, 120.0)
        # the 2 s count from when the server and the clock are both back: the engine
        # cannot connect to a clock that is not there yet (starting the tools took
        # most of 2 s on a busy machine)
        back = time.monotonic()
        connect(name, master.port, dump.port)  # the dumper sees what the engine is sent
        ours = next(p for p in _ports_now(name) if p.endswith("AutoBeat clock in")) \
            if _wait(lambda: any(p.endswith("AutoBeat clock in") for p in _ports_now(name)),
                     max(0.1, back + 2.0 - time.monotonic())) else None
        assert ours is not None, "no clock input in the new server within 2 s"
        assert _wait(lambda: master.port in _connected(name, ours),
                     max(0.1, back + 2.0 - time.monotonic())), "not connected to the clock"
        master.play()
        if not _wait(lambda: any(e.data[0] == 0x99 for e in dump.snapshot()), 3.0):
            seen = {e.data[0] for e in dump.snapshot()}
            if 0xFA not in seen:
                pytest.skip("jackd (no realtime, busy machine) did not deliver the Start")
            raise AssertionError(f"no notes after the new clock's Start; the dumper saw {seen}")
    finally:
        engine.stop()
        master.close()
        dump.stop()
        if server is not None:
            server.stop()


def _ports_now(server: str) -> list[str]:
    from engine.jacktools import ports

    return ports(server)
