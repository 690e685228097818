"""The pages over the grid (help, :messages) and the message line: keys scroll a page and
never reach the lanes behind it; each message shows once, and whole on :messages."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from autobeat_tui.screens.help import HelpScreen
from autobeat_tui.screens.messages import MessagesScreen
from autobeat_tui.widgets.command_line import MORE, MessageLine, message_text
from tests.autobeat_tui.conftest import make_app, until


async def ready(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine_ready and app.model is not None)


async def type_line(pilot, line: str) -> None:
    await pilot.press("colon", *line, "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_help_scrolls_with_its_keys_and_the_grid_stays_put(tmp_path, size):
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        before = (app.session.selected, app.session.cursor_track, app.session.cursor_step)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        scroll = app.screen.query_one(VerticalScroll)
        await pilot.pause()
        assert scroll.max_scroll_y > 0  # more help than screen at both sizes
        await pilot.press("down", "down")
        assert scroll.scroll_y == 2
        await pilot.press("up")
        assert scroll.scroll_y == 1
        await pilot.press("pagedown")
        assert scroll.scroll_y > 2
        await pilot.press("end")
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("home")
        assert scroll.scroll_y == 0
        await pilot.press("tab", "tab", "left", "right", "right", "x")
        await pilot.pause()
        assert (app.session.selected, app.session.cursor_track, app.session.cursor_step) == before
        assert app.session.pattern.is_empty()
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("tab")
        assert app.session.selected == before[0] + 1


async def test_each_message_shows_once_and_the_previous_moves_to_the_console(tmp_path):
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await type_line(pilot, "bpm 90")
        console = app.query_one("#console")
        assert app.query_one(MessageLine).message == "tempo 90 BPM"
        assert [line.text for line in console.lines] == []
        await type_line(pilot, "swing 60")
        assert app.query_one(MessageLine).message == "swing 60%"
        assert [line.text for line in console.lines] == ["› bpm 90  → tempo 90 BPM"]
        assert app.messages == ["› bpm 90  → tempo 90 BPM", "› swing 60  → swing 60%"]


async def test_a_problem_is_a_toast_and_settles_in_the_console_when_it_closes(tmp_path):
    app, _, _ = make_app(tmp_path, startup_errors=["bank.json is in use by process 4242"])
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.pause()
        toasts = [n.message for n in app._notifications]
        assert toasts == ["bank.json is in use by process 4242"]
        assert app.query_one(MessageLine).message == ""  # not twice on screen
        assert app.messages == ["! bank.json is in use by process 4242"]


async def test_messages_shows_long_messages_whole(tmp_path):
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await type_line(pilot, "help gen")
        line = app.query_one(MessageLine)
        shown = message_text(line.message, line.size.width).plain
        assert len(shown) == 80 and shown.endswith(MORE)
        await type_line(pilot, "messages")
        assert isinstance(app.screen, MessagesScreen)
        page = app.screen.query_one("Static")
        assert "[seed=N] [temp=T]" in str(page.render())
        await pilot.press("escape")
        assert not isinstance(app.screen, MessagesScreen)


@pytest.mark.parametrize(
    ("size", "folded", "notice"),
    [((80, 24), False, False), ((60, 20), True, False), ((60, 21), True, False),
     ((47, 24), False, True), ((80, 19), False, True)],
)
async def test_a_small_screen_folds_the_ruler_and_key_bar_or_says_the_size_it_needs(
    tmp_path, size, folded, notice
):
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.pause()
        assert app.query_one("Ruler").display is not folded
        assert app.query_one("KeyBar").display is not folded
        too_small = app.query_one("#too-small")
        assert too_small.display is notice
        assert "at least 48 columns and 20 rows" in str(too_small.render())
        if not notice:  # the whole grid and the slot strip are on screen
            ride = app.query_one("#lane-4").region
            strip = app.query_one("SlotStrip").region
            assert ride.bottom <= strip.y and strip.bottom <= size[1] - 2
            assert app.query_one("#command").region.bottom <= size[1]
            assert app.screen.virtual_size.height <= size[1]  # nothing to scroll to


async def test_project_errors_are_messages_and_a_bug_is_not_hidden_as_one(tmp_path):
    from patterns.bank import BankError

    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)

        def fails(cmd, error):
            raise error

        app.session.run = lambda cmd: fails(cmd, BankError("bank.json: cannot write: disk full"))
        assert app.run_line("save A02") is False
        assert app.query_one(MessageLine).message == "bank.json: cannot write: disk full"
        app.session.run = lambda cmd: fails(cmd, ValueError("a bug"))
        with pytest.raises(ValueError, match="a bug"):
            app.run_line("save A02")


def test_the_help_shows_every_usage_whole_not_as_markup():
    from rich.console import Console

    from autobeat_tui.live.language import USAGE
    from autobeat_tui.screens.help import help_table

    console = Console(width=200, record=True)
    console.print(help_table())
    text = console.export_text()
    for usage in USAGE.values():
        assert usage in text  # "[as NAME]", "[temp=T]" and "[PORT|none]" included


def test_the_help_says_what_ctrl_q_does_in_this_app():
    """Alone the app quits; attached to a host it detaches (as its key bar says)."""
    from rich.console import Console

    from autobeat_tui.screens.help import help_table

    def quit_row(label=None) -> str:
        console = Console(width=200, record=True)
        console.print(help_table() if label is None else help_table(label))
        return next(line for line in console.export_text().splitlines()
                    if line.lstrip().startswith("^q"))

    assert quit_row().split() == ["^q", "quit"]
    assert quit_row("detach").split() == ["^q", "detach"]


async def test_a_short_screen_holds_the_slot_strip_to_one_line(tmp_path):
    from patterns.bank import Bank
    from patterns.pattern import Event, Pattern

    beat = Pattern().with_event(Event(0, 1))
    app, _, _ = make_app(tmp_path, bank=Bank().with_slot("A01", beat).with_slot("A03", beat))
    async with app.run_test(size=(60, 20)) as pilot:
        await ready(pilot)
        app.run_line("chain A01*2 A03")
        await pilot.pause()
        strip = app.query_one("SlotStrip")
        assert strip.region.height == 1 and strip.region.bottom <= 18
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert strip.region.height == 2  # room again: the chain has its own line
