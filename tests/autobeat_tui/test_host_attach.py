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
    assert all("messages" not in m and "help" not in m for m in host.core.messages)
