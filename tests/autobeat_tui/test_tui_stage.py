"""The app on stage: the engine killed under it, ^q with unsaved edits, odd numbers."""

from __future__ import annotations

from autobeat_tui.widgets.command_line import MessageLine
from engine.messages import SetPattern, Transport
from patterns.bank import Bank, load_bank
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.conftest import make_app, until
from tests.autobeat_tui.tui_doubles import DyingEngine

SIZE = (100, 32)


def message(app) -> tuple[str, bool]:
    line = app.query_one(MessageLine)
    return line.message, line.has_class("-error")


async def test_a_killed_engine_is_silenced_said_and_restarted_by_play(tmp_path):
    app, _, _ = make_app(tmp_path, pattern=Pattern((Event(0, 1),)))
    engine = DyingEngine()
    app.engine = engine
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine_ready)
        await pilot.press("space")
        await until(pilot, lambda: app.session.playing)
        engine.alive = False  # kill -9
        await until(pilot, lambda: bool(app.engine_error))
        # a problem outside the user's command: a toast, kept whole for :messages
        text = app.messages[-1]
        assert text.startswith("✗ engine stopped (notes silenced)")
        assert "play starts it again" in text
        assert engine.panics == [app.session.engine.output]
        assert not app.session.playing  # no pretending
        engine.sent.clear()
        await pilot.press("space")
        await until(pilot, lambda: engine.restarts == 1)
        assert not app.engine_error
        assert isinstance(engine.sent[0], SetPattern)
        assert Transport("start") in engine.sent
        assert app.session.playing


async def test_quit_with_unsaved_edits_asks_and_keeps_them(tmp_path):
    bank = Bank({"A01": Pattern((Event(0, 1),))})
    app, _, _ = make_app(tmp_path, pattern=bank["A01"], bank=bank)
    recovery = tmp_path / "bank.recovery.json"
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine_ready)
        assert app.run_line("kick x...x...x...x...x...x...x...x...")
        await pilot.press("ctrl+q")
        await pilot.pause(0.05)
        assert app.is_running
        text, _ = message(app)
        assert text == ("unsaved changes in A01 (kept in bank.recovery.json meanwhile): "
                        "w saves them, ^q again quits")
        kept = load_bank(recovery).bank["A01"]
        assert kept == app.session.pattern
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)
    # the next start puts the pattern back on screen
    app2, _, _ = make_app(tmp_path, pattern=bank["A01"], bank=bank)
    line = app2.session.take_recovery()
    assert "A01 from the last session is back on screen" in line
    assert app2.session.pattern == kept and app2.session.unsaved()


async def test_quit_with_nothing_unsaved_quits_at_once(tmp_path):
    bank = Bank({"A01": Pattern((Event(0, 1),))})
    app, _, _ = make_app(tmp_path, pattern=bank["A01"], bank=bank)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine_ready)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)
    assert not (tmp_path / "bank.recovery.json").exists()


async def test_superscript_digits_are_one_line_errors(tmp_path):
    app, _, _ = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine_ready)
        for line in ("gen ²", "hit kick ²", "gen 1 seed=²", "vel kick ² 3", "bpm ²"):
            assert app.run_line(line) is False
            text, error = message(app)
            assert error and "invalid literal" not in text and "\n" not in text, (line, text)
