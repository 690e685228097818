"""The Textual app attached to a host over a real socket (the host in this process)."""

from __future__ import annotations

import time

import pytest

from autobeat_tui.attach import DETACHED, STOPPED, AttachedApp, QuitScreen
from autobeat_tui.host.client import HostClient
from autobeat_tui.live import language as lang
from autobeat_tui.widgets.command_line import MessageLine
from autobeat_tui.widgets.lane import Lane
from autobeat_tui.widgets.slot_strip import SlotStrip
from autobeat_tui.widgets.status_line import StatusLine
from tests.autobeat_tui.test_host import Running, runtime  # noqa: F401 - the fixture

SIZE = (80, 30)


@pytest.fixture
def host(tmp_path, runtime):  # noqa: F811
    running = Running(tmp_path, runtime)
    yield running
    running.close()


def attached(host) -> AttachedApp:
    return AttachedApp(lambda role: HostClient.connect(host.path, role=role, timeout=5.0),
                       bank_label="bank.json")


async def until(pilot, condition, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.01)


def lane_hits(app, group: int) -> set[tuple[int, int]]:
    lane = next(lane for lane in app.query(Lane) if lane.group == group)
    return {(e.step, e.track) for e in lane.view.events}


async def test_the_screen_is_the_hosts_and_keys_go_to_it(host):
    with host.client() as c:
        c.run("hit kick 3")
        c.run("bpm 128")
    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        assert lane_hits(app, 1) == {(2, 1)}
        assert app.query_one(StatusLine).view.tempo == 128.0
        await pilot.press("x")  # the cursor starts on kick, step 1
        await until(pilot, lambda: host.session.pattern.at(0, 1) is not None)
        await until(pilot, lambda: lane_hits(app, 1) == {(0, 1), (2, 1)})
        assert app.query_one(SlotStrip).view.undo == (2, 0)
        await pilot.press("colon", *"bpm 90", "enter")
        await until(pilot, lambda: app.query_one(StatusLine).view.tempo == 90.0)
        await pilot.press("colon", *"bpm nope", "enter")
        with pytest.raises(lang.CommandError) as app_error:
            lang.parse("bpm nope")
        line = app.query_one(MessageLine)
        await until(pilot, lambda: line.message == str(app_error.value))
        assert line.has_class("-error")
        assert host.session.pattern.tempo == 90.0  # refused: nothing changed


async def test_another_client_s_change_shows_within_a_frame(host):
    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        with host.client() as other:
            assert other.run("hit snare 5")[0]
            sent = time.monotonic()
            await until(pilot, lambda: (4, 3) in lane_hits(app, 1))
            # a frame is 1/60 s; the shared test machine gets a wide margin
            assert time.monotonic() - sent < 1.0
            other.run("gen 2 seed=4")
            await until(pilot, lambda: lane_hits(app, 2) != set(), timeout=20)
            assert lane_hits(app, 2) == {(e.step, e.track)
                                         for e in host.session.pattern.group_events(2)}


async def test_ctrl_q_detaches_and_the_host_plays_on(host):
    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        await pilot.press("ctrl+q")
    assert app.outcome == DETACHED
    app.close_connections()
    assert host.thread.is_alive() and not host.engine.stopped
    with host.client() as c:
        assert c.run("play") == (True, "playing")


async def test_quit_asks_and_y_stops_the_host(host):
    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        await pilot.press("colon", *"quit", "enter")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("escape")  # stay
        await until(pilot, lambda: not isinstance(app.screen, QuitScreen))
        await pilot.press("colon", *"quit", "enter")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("y")
    assert app.outcome == STOPPED
    host.thread.join(5)
    assert not host.thread.is_alive()


async def test_the_host_going_away_ends_the_app_with_one_line(host):
    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        host.server.stop("test")
        host.thread.join(5)
        host.server.close()  # its clients' connections close
        await until(pilot, lambda: app.outcome != DETACHED)
    assert app.outcome.startswith("host gone: ")
    assert "\n" not in app.outcome


async def test_the_key_bar_says_ctrl_q_detaches(host):
    from autobeat_tui.widgets.key_bar import KeyBar

    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        assert str(app.query_one(KeyBar).render()).endswith("^q detach")


async def test_help_and_messages_are_this_terminal_s_pages(host):
    from autobeat_tui.screens.help import HelpScreen
    from autobeat_tui.screens.messages import MessagesScreen

    with host.client() as c:
        c.run("bpm 111")
    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        await pilot.press("colon", *"messages", "enter")
        await until(pilot, lambda: isinstance(app.screen, MessagesScreen))
        assert "› bpm 111  → tempo 111 BPM" in app.screen.lines
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, MessagesScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
    assert all("messages" not in m.line and "help" not in m.line for m in host.core.messages)


async def test_a_host_s_problem_is_a_notification_as_in_the_app(host):
    from engine.messages import PortError

    app = attached(host)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        host.engine.reports.append(PortError("output 'TR-8S' went away; retrying"))
        await until(pilot, lambda: app.query_one(StatusLine).view.output_error)
        await until(pilot, lambda: any("went away" in n.message for n in app._notifications))
        note = next(n for n in app._notifications if "went away" in n.message)
        assert (note.message, note.severity) == (
            "MIDI: output 'TR-8S' went away; retrying", "error")
        assert "✗ MIDI: output 'TR-8S' went away; retrying" in app.messages  # for :messages
        # the session's own lines stay lines, as in the app
        with host.client() as c:
            c.run("bpm 99")
        line = app.query_one(MessageLine)
        await until(pilot, lambda: line.message == "tempo 99 BPM")
        assert not any("tempo 99" in n.message for n in app._notifications)


async def test_a_killed_engine_under_the_host_is_a_notification_and_play_restarts_it(
        tmp_path, runtime):  # noqa: F811
    from tests.autobeat_tui.test_host import Running
    from tests.autobeat_tui.tui_doubles import DyingEngine

    running = Running(tmp_path, runtime, engine=DyingEngine())
    app = attached(running)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.first_state_at is not None)
            await pilot.press("space")
            await until(pilot, lambda: running.session.playing)
            running.engine.alive = False
            await until(pilot, lambda: app.query_one(StatusLine).view.engine_error == "stopped")
            await until(pilot, lambda: any("engine stopped" in n.message
                                           for n in app._notifications))
            await pilot.press("space")  # play: a new engine
            await until(pilot, lambda: running.engine.restarts == 1)
            await until(pilot, lambda: app.query_one(StatusLine).view.engine_error == "")
    finally:
        app.close_connections()
        running.close()


async def test_warnings_of_a_host_just_started_are_notifications_old_ones_lines(
        tmp_path, runtime):  # noqa: F811
    from autobeat_tui.live.said import PROBLEM, Said
    from tests.autobeat_tui.test_host import Running

    running = Running(tmp_path, runtime, said=("bank.json: slot A03 was damaged; left empty",))
    running.core.tell(Said(PROBLEM, "MIDI: an old problem", at=time.time() - 600))
    app = attached(running)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.first_state_at is not None)
            await until(pilot, lambda: bool(app._notifications))
            notes = [(n.title, n.message, n.severity) for n in app._notifications]
            assert notes == [("bank", "bank.json: slot A03 was damaged; left empty", "warning")]
            assert "✗ MIDI: an old problem" in app.messages  # said, not popped up
    finally:
        app.close_connections()
        running.close()


def test_options_a_running_host_does_not_take_are_named_in_one_line():
    import argparse

    from autobeat_tui.commands.app import add_session_arguments
    from autobeat_tui.commands.attach import options_not_taken

    parser = argparse.ArgumentParser()
    add_session_arguments(parser)
    info = {"options": {"out": "TR-8S", "latency": 4.0}}
    same = parser.parse_args(["--out", "TR-8S", "--bank", "set.json"])
    assert options_not_taken(same, info, "set.json") == ""
    assert options_not_taken(parser.parse_args([]), info, "set.json") == ""  # none given
    other = parser.parse_args(["--out", "none", "--clock", "link", "--latency", "4"])
    assert options_not_taken(other, info, "set.json") == (
        "the host of set.json already runs (--out TR-8S, no --clock), so --out none "
        "--clock link is not taken: autobeat stop, then autobeat with them starts a host "
        "that takes them")


async def test_options_the_host_does_not_take_are_said_once(host):
    line = "the host of bank.json already runs (--out TR-8S), so --out none is not taken"
    app = AttachedApp(lambda role: HostClient.connect(host.path, role=role, timeout=5.0),
                      bank_label="bank.json", startup_warnings=(line,))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.first_state_at is not None)
        await until(pilot, lambda: bool(app._notifications))
        assert [(n.title, n.message, n.severity) for n in app._notifications] == [
            ("host", line, "warning")]
