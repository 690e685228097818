"""The session host over a real Unix socket, in this process (engine and model doubles)."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autobeat_tui.host import protocol as p
from autobeat_tui.host import server as server_module
from autobeat_tui.host.client import HostClient, HostUnavailable
from autobeat_tui.host.core import HostCore
from autobeat_tui.host.recovery import Recovery, pattern_from_json, recovery_path, undo_path
from autobeat_tui.host.server import HostExists, HostServer, listen
from autobeat_tui.live import language as lang
from autobeat_tui.live.said import ERROR, PROBLEM, SAY, WARNING, Said
from autobeat_tui.live.session import Session
from engine.messages import PortError, SetPattern, SetTempo, SwapGroup, Transport
from patterns.bank import Bank, load_bank, save_bank
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.tui_doubles import DyingEngine, FakeModel, RecordingEngine


@pytest.fixture
def runtime(monkeypatch):
    # short: a Unix socket path must fit in 108 bytes
    folder = Path(tempfile.mkdtemp(prefix="abrt"))
    monkeypatch.setenv(p.RUNTIME_ENV, str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class Running:
    def __init__(self, tmp_path: Path, runtime: Path, engine=None, said=()) -> None:
        self.bank_path = tmp_path / "bank.json"
        self.session = Session(Pattern(), bank=Bank(), bank_path=self.bank_path,
                               save_bank=save_bank, rng=random.Random(3))
        self.engine = engine or RecordingEngine()
        self.model = FakeModel()
        self.core = HostCore(self.session, self.engine, lambda: self.model,
                             recovery=Recovery(self.bank_path), startup_messages=said)
        self.path = runtime / "h.sock"
        self.server = HostServer(self.core, self.path, {"bank": str(self.bank_path),
                                                        "pid": os.getpid()})
        self.server.open()
        self.core.start()
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()

    def client(self, role: str = "send") -> HostClient:
        return HostClient.connect(self.path, role=role, timeout=5.0)

    def close(self) -> None:
        self.server.stop("test")
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def host(tmp_path, runtime):
    running = Running(tmp_path, runtime)
    yield running
    running.close()


def wait_for(condition, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_a_line_runs_on_the_host_and_answers_as_the_app(host):
    with host.client() as c:
        assert c.info["bank"] == str(host.bank_path)
        assert c.info["version"] == p.VERSION
        assert c.run("bpm 124") == (True, "tempo 124 BPM")
        assert c.run("hit kick 1", cursor=(3, 4)) == (True, "kick step 1: velocity 100")
        with pytest.raises(lang.CommandError) as app_error:
            lang.parse("bpm fast")
        assert c.run("bpm fast") == (False, str(app_error.value))
    assert SetTempo(124.0) in host.engine.sent
    assert any(isinstance(m, SwapGroup) and m.group == 1 for m in host.engine.sent)
    assert host.session.pattern.at(0, 1).velocity == 100
    assert host.session.pattern.tempo == 124.0


def test_generation_runs_in_the_host_and_lands(host):
    with host.client("watch") as c:
        wait_for(lambda: host.core.model is not None)
        ok, text = c.run("gen 2 seed=5")
        assert ok and text == "generating hats (seed 5)"
        while True:  # the snapshot after the model wrote: hats in the pattern
            state = c.next_state()
            if "generated hats" in [m["text"] for m in state["messages"]]:
                break
        pattern = pattern_from_json(state["pattern"])
        assert pattern.group_events(2) == host.session.pattern.group_events(2) != ()
        assert state["undo"] == [1, 0]


def test_two_clients_see_each_others_changes(host):
    with host.client("watch") as a, host.client("watch") as b:
        assert a.next_state()["pattern"] == b.next_state()["pattern"]  # the first, on hello
        assert a.run("hit snare 5")[0]
        seen = b.next_state()
        assert pattern_from_json(seen["pattern"]).at(4, 3) is not None
        assert b.run("mute snare")[0]
        wait_for(lambda: 3 in a.next_state()["mutes"])
        with host.client("info") as info:
            assert info.info["clients"] == 2


def test_engine_state_is_pushed_to_watchers(host):
    with host.client("watch") as c:
        c.next_state()
        host.engine.report(playing=True, step=7, bar=3, tempo=120.0, output="TR-8S")
        state = c.next_state()
        assert (state["playing"], state["step"], state["bar"], state["output"]) == (
            True, 7, 3, "TR-8S")


@pytest.mark.parametrize("version", [99, p.VERSION - 1])
def test_another_protocol_version_is_refused_naming_both(host, version):
    with pytest.raises(HostUnavailable) as refused:
        HostClient.connect(host.path, version=version, timeout=5.0)
    assert f"version {version} " in str(refused.value)
    assert f"version {p.VERSION}" in str(refused.value)
    with host.client() as c:  # the host is fine
        assert c.run("swing 55") == (True, "swing 55%")


def _raw(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5.0)
    s.connect(str(path))
    return s


def _closed_by_host(s: socket.socket) -> bool:
    try:
        while s.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    return True


HELLO = b'{"v": %d, "hello": "send"}\n' % p.VERSION


@pytest.mark.parametrize("garbage", [
    bytes(random.Random(1).randrange(256) for _ in range(4096)) + b"\n",
    HELLO + b"x" * (10 * 1024 * 1024) + b"\n",
    HELLO + b'[1, 2, 3]\n',
    b'{"v": %d, "hello": "root"}\n' % p.VERSION,
    HELLO + b'{"id": 1, "line": 5}\n',
    HELLO + b'{"id": 1, "line": "bpm 90", "cursor": [99, -1]}\n',
    HELLO + b'{"id": 1, "format": "c:"}\n',
    b'\xff\xfe\xfd\n',
])
def test_garbage_drops_that_client_only(host, garbage):
    with host.client("watch") as watcher:
        watcher.next_state()
        s = _raw(host.path)
        try:
            s.sendall(garbage)
        except (BrokenPipeError, ConnectionResetError):
            pass  # dropped while it was still sending (the 10 MB line)
        assert _closed_by_host(s)
        s.close()
        assert watcher.run("bpm 133") == (True, "tempo 133 BPM")  # the other stays
        assert watcher.next_state()["tempo"] == 133.0
    assert host.thread.is_alive()


def test_half_a_message_then_close(host):
    s = _raw(host.path)
    s.sendall(HELLO + b'{"id": 1, "li')
    s.close()
    with host.client() as c:
        assert c.run("bpm 101") == (True, "tempo 101 BPM")
    wait_for(lambda: len(host.server.clients) == 0)


def test_a_peer_of_another_user_is_refused(host, monkeypatch):
    a, b = socket.socketpair(socket.AF_UNIX)
    assert p.peer_uid(a) == os.getuid()
    a.close(), b.close()
    monkeypatch.setattr(server_module.p, "peer_uid", lambda sock: os.getuid() + 1)
    with pytest.raises(HostUnavailable):
        HostClient.connect(host.path, timeout=5.0)


def test_socket_is_private_and_a_live_one_is_not_taken(host):
    assert stat.S_IMODE(os.stat(host.path).st_mode) == 0o600
    with pytest.raises(HostExists):
        listen(host.path)


def test_a_stale_socket_is_replaced_never_a_hang(runtime):
    path = runtime / "stale.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # bound, never listening, closed: as a host killed with -9 leaves it
    dead.close()
    started = time.monotonic()
    with pytest.raises(HostUnavailable, match="no host is running"):
        HostClient.connect(path, timeout=5.0)
    fresh = listen(path)
    assert time.monotonic() - started < 2.0
    fresh.close()


def test_stop_ends_the_host_and_stops_the_engine(host):
    with host.client() as c:
        assert c.stop_host() == "host stopped; music off"
    host.thread.join(5)
    assert not host.thread.is_alive()
    host.server.close()
    host.core.close()
    assert host.engine.stopped and not host.path.exists()


def test_recovery_keeps_pattern_and_history_after_each_change(host):
    with host.client() as c:
        for line in ("hit kick 1", "hit kick 5", "hit snare 5", "undo"):
            assert c.run(line)[0]
    kept = load_bank(recovery_path(host.bank_path)).bank
    assert kept.slots["A01"] == host.session.pattern
    undo = json.loads(undo_path(host.bank_path).read_text())
    assert (len(undo["past"]), len(undo["future"])) == (2, 1)
    # a new session (as after kill -9) gets it all back
    fresh = Session(Pattern(), bank=Bank(), bank_path=host.bank_path, save_bank=save_bank)
    said = Recovery(host.bank_path).take(fresh)
    assert said.startswith("the unsaved pattern of A01 from the last session is back, "
                           "with 2 undo steps and 1 redo")
    assert fresh.pattern == host.session.pattern
    assert fresh.redo() == "redone" and fresh.pattern.at(4, 3) is not None
    fresh.undo(), fresh.undo(), fresh.undo()
    assert fresh.pattern == Pattern().with_tempo(fresh.pattern.tempo)


def test_saving_leaves_no_unsaved_work(host):
    with host.client() as c:
        assert c.run("hit kick 1")[0]
        assert recovery_path(host.bank_path).exists()
        assert c.run("save")[0]
    assert not recovery_path(host.bank_path).exists()
    assert load_bank(host.bank_path).bank.slots["A01"].at(0, 1) is not None


def test_an_engine_report_moves_a_queued_slot(host):
    host.session.bank = Bank({"A02": Pattern().with_tempo(120.0)})
    with host.client() as c:
        host.engine.report(playing=True, step=0, bar=1)
        wait_for(lambda: host.session.engine.playing)
        assert c.run("queue A02") == (True, "A02 queued for the next bar")
        host.engine.report(playing=True, step=0, bar=1, pending=True)
        wait_for(lambda: host.session.engine.pending)
        host.engine.report(playing=True, step=0, bar=2, pending=False)
        wait_for(lambda: host.session.slot == "A02")


def test_a_runtime_folder_others_can_enter_is_refused(monkeypatch, tmp_path):
    from autobeat_tui.errors import UserError

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv(p.RUNTIME_ENV, str(shared))
    with pytest.raises(UserError, match="only you can open"):
        p.runtime_dir()
    shared.chmod(0o700)
    assert p.runtime_dir() == shared
    link = tmp_path / "link"
    link.symlink_to(shared)
    monkeypatch.setenv(p.RUNTIME_ENV, str(link))
    with pytest.raises(UserError, match="only you can open"):
        p.runtime_dir()


def test_history_comes_back_only_with_its_own_pattern(host):
    with host.client() as c:
        for line in ("hit kick 1", "hit kick 5", "save"):
            assert c.run(line)[0]
    assert not recovery_path(host.bank_path).exists() and undo_path(host.bank_path).exists()
    saved = load_bank(host.bank_path).bank
    # a clean restart: the saved pattern with its undo steps
    again = Session(saved.get("A01"), bank=saved, bank_path=host.bank_path, save_bank=save_bank)
    assert "with 2 undo steps" in Recovery(host.bank_path).take(again)
    # the bank changed meanwhile (autobeat bank, another copy): its pattern, no stale history
    changed = saved.with_slot("A01", Pattern().with_event(Event(3, 2)))
    other = Session(changed.get("A01"), bank=changed, bank_path=host.bank_path,
                    save_bank=save_bank)
    assert Recovery(host.bank_path).take(other) is None
    assert other.pattern.at(3, 2) is not None and other.history.depth == (0, 0)


def test_a_bug_in_one_command_is_answered_and_the_host_plays_on(host, monkeypatch, capsys):
    def broken(*args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(host.session, "set_swing", broken)
    with host.client() as c:
        ok, text = c.run("swing 60")
        assert not ok and text.startswith("internal error: ZeroDivisionError('a bug')")
        assert c.run("bpm 97") == (True, "tempo 97 BPM")
    assert host.thread.is_alive()


def _said(state) -> list[Said]:
    return [Said.from_json(m) for m in state["messages"]]


def _next_state_where(client, condition, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while True:
        assert time.monotonic() < end, "timed out"
        state = client.next_state()
        if condition(state):
            return state


def test_a_killed_engine_is_a_problem_and_play_starts_a_new_one(tmp_path, runtime):
    running = Running(tmp_path, runtime, engine=DyingEngine())
    engine = running.engine
    try:
        with running.client("watch") as c:
            c.next_state()
            assert c.run("play") == (True, "playing")
            engine.report(playing=True, step=2, bar=0, output="TR-8S")
            _next_state_where(c, lambda s: s["playing"])
            engine.alive = False  # kill -9
            state = _next_state_where(c, lambda s: s["engine"] == "stopped")
            died = _said(state)[-1]
            assert (died.kind, died.text) == (
                PROBLEM, "engine stopped (notes silenced); play starts it again")
            assert engine.panics == ["TR-8S"]  # what it left sounding, silenced
            assert not running.session.playing
            time.sleep(0.1)  # more ticks: said once
            assert sum("engine stopped" in m.text for m in running.core.messages) == 1
            engine.sent.clear()
            assert c.run("play") == (True, "playing")
            assert engine.restarts == 1
            assert isinstance(engine.sent[0], SetPattern)
            assert Transport("start") in engine.sent
            assert _next_state_where(c, lambda s: s["engine"] == "playing")
    finally:
        running.close()


def test_each_message_has_its_kind(host):
    with host.client("watch") as c:
        c.next_state()
        assert c.run("bpm 99")[0]
        assert not c.run("bpm fast")[0]
        host.engine.reports.append(PortError("output 'TR-8S' went away; retrying"))
        state = _next_state_where(c, lambda s: s["output_error"])
    said = _said(state)[-3:]
    assert [(m.kind, m.echo, m.text) for m in said] == [
        (SAY, "› bpm 99  → ", "tempo 99 BPM"),
        (ERROR, "› bpm fast  → ", str(_parse_error("bpm fast"))),
        (PROBLEM, "", "MIDI: output 'TR-8S' went away; retrying"),
    ]
    assert said[2].line == "✗ MIDI: output 'TR-8S' went away; retrying"  # as the app logs it
    with host.client() as c:
        assert c.run("messages")[1].endswith("| ✗ MIDI: output 'TR-8S' went away; retrying")


def test_startup_warnings_are_warnings(tmp_path, runtime):
    running = Running(tmp_path, runtime, said=("bank.json: slot A03 was damaged; left empty",))
    try:
        with running.client("watch") as c:
            first = _said(c.next_state())[0]
        assert (first.kind, first.title, first.line) == (
            WARNING, "bank", "! bank.json: slot A03 was damaged; left empty")
    finally:
        running.close()


def _parse_error(line: str) -> lang.CommandError:
    with pytest.raises(lang.CommandError) as error:
        lang.parse(line)
    return error.value
