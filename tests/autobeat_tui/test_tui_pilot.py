"""The app driven by keys and typed commands (Textual Pilot), on an engine and model double.

Each test presses keys or types a command, then checks the app's state and the
commands that reached the engine.
"""

from __future__ import annotations

import threading

import pytest

from autobeat_tui.app import AutoBeatApp, EngineReported
from autobeat_tui.live.session import GENERATING, IDLE, WAITING
from autobeat_tui.screens.help import HelpScreen
from autobeat_tui.widgets.command_line import CommandLine, MessageLine
from autobeat_tui.widgets.lane import Lane
from autobeat_tui.widgets.ruler import Ruler
from autobeat_tui.widgets.status_line import StatusLine
from engine.messages import (
    EngineState,
    PatternSwapped,
    PortError,
    SetClock,
    SetMute,
    SetPattern,
    SetSolo,
    SetSwing,
    SetTempo,
    SwapGroup,
    Transport,
)
from patterns.bank import Bank, load_bank
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.conftest import make_app, until
from tests.autobeat_tui.tui_doubles import FakeModel

SIZE = (80, 24)


async def ready(pilot) -> None:
    """Let the first frame, the engine start and the model load happen."""
    app: AutoBeatApp = pilot.app
    await until(
        pilot, lambda: app.engine_ready and (app.model is not None or app.model_status.error)
    )
    app.engine.sent.clear()


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_line(pilot, line: str) -> None:
    await pilot.press("colon", *line, "enter")
    await settle(pilot)


def message(app) -> tuple[str, bool]:
    line = app.query_one(MessageLine)
    return line.message, line.has_class("-error")


# --- start --------------------------------------------------------------------------


async def test_start_sends_the_pattern_and_loads_the_model(tmp_path):
    pattern = Pattern().with_event(Event(0, 1)).with_tempo(97)
    app, engine, _ = make_app(tmp_path, pattern=pattern, start_engine=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.01)
            if app.engine_ready and app.model is not None:
                break
        assert engine.started
        assert engine.sent[:3] == [SetPattern(pattern, at="now"), SetTempo(97.0), SetSwing(50.0)]
        assert app.query_one(StatusLine).view.model == "fake-model"
        assert app.session.genres == ("funk", "jazz", "rock")
        assert app.first_frame_at is not None


async def test_a_missing_model_is_reported_and_generation_refused(tmp_path):
    def missing():
        raise RuntimeError("models/autobeat.gguf: model file not found")

    app, engine, _ = make_app(tmp_path, load_model=missing)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.model_status.error
        assert app.query_one(StatusLine).view.model == "missing"
        assert any("model file not found" in n.message for n in app._notifications)
        await pilot.press("g")
        text, error = message(app)
        assert error and "not available" in text
        assert engine.sent == []


# --- generation -------------------------------------------------------------------------


async def test_g_generates_the_selected_group_and_swaps_it_at_the_bar(app_parts):
    app, engine, model = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.session.playing = True
        await pilot.press("2", "g")
        await settle(pilot)
        assert model.calls[0][:2] == ("group", 2)
        events = app.session.pattern.group_events(2)
        assert events and app.query_one("#lane-2", Lane).view.events == events
        assert engine.sent == [SwapGroup(2, events, at="bar")]
        assert app.session.lane_state[2] == WAITING
        engine.reports.append(PatternSwapped(bar=4))
        await until(pilot, lambda: app.session.lane_state[2] == IDLE)


async def test_shift_g_generates_all_and_r_mutates(app_parts):
    app, engine, model = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("G")
        await settle(pilot)
        assert model.calls[0][0] == "all"
        assert {c.group for c in engine.of(SwapGroup)} == {1, 2, 3, 4}
        await pilot.press("greater_than_sign", "3", "r")
        await settle(pilot)
        assert model.calls[1][:3] == ("mutate", 3, 0.3)
        await pilot.press("less_than_sign", "less_than_sign")
        assert app.session.amount == 0.2


async def test_typed_gen_sets_the_lane_parameters(app_parts):
    app, engine, model = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "gen 2 genre=funk density=high seed=7")
        assert model.calls == [("group", 2, "funk", 7)]
        params = app.session.pattern.group_params(2)
        assert (params.genre, params.density, params.seed, params.model) == (
            "funk",
            "high",
            7,
            "fake-model",
        )
        await type_line(pilot, "mutate 1 0.3")
        assert model.calls[-1][:3] == ("mutate", 1, 0.3)


async def test_the_latest_request_wins_and_keys_work_while_it_runs(app_parts, tmp_path):
    gate = threading.Event()
    model = FakeModel(gate)
    app, engine, _ = make_app(tmp_path, model=model)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("1", "g")
        assert app.session.lane_state[1] == GENERATING
        assert "generating" in str(app.query_one("#lane-1", Lane).render())
        await pilot.press("2", "g")  # replaces the first request
        await pilot.press("x")  # the grid answers while the model runs
        assert app.session.pattern.at(0, 5) is not None
        gate.set()
        await settle(pilot)
        assert not model.overlapped
        assert [c[:2] for c in model.calls] == [("group", 1), ("group", 2)]
        # the hand edit, then the second result; the first result never reaches the engine
        assert [(c.group, c.at) for c in engine.of(SwapGroup)] == [(2, "now"), (2, "now")]
        assert app.session.pattern.group_events(1) == ()  # the first result was dropped
        assert app.session.lane_state == {1: IDLE, 2: IDLE, 3: IDLE, 4: IDLE}


# --- editing by hand -------------------------------------------------------------------


async def test_cursor_keys_set_change_and_clear_hits(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("right", "right", "down", "down", "x")
        assert app.session.pattern.at(2, 3) == Event(2, 3, 0, 100)
        await pilot.press("a")
        assert app.session.pattern.at(2, 3).velocity == 110
        await pilot.press("z", "z", "z")
        assert app.session.pattern.at(2, 3).velocity == 80
        await pilot.press("backspace")
        assert app.session.pattern.at(2, 3) is None
        await pilot.press("enter", "enter")
        assert app.session.pattern.at(2, 3) is None
        await pilot.press("up", "up", "up", "left", "left", "left")
        assert (app.session.cursor_track, app.session.cursor_step) == (12, 31)
        assert app.session.selected == 4
        await pilot.press("tab")
        assert (app.session.selected, app.session.cursor_track) == (1, 1)
        await pilot.press("shift+tab")
        assert (app.session.selected, app.session.cursor_track) == (4, 11)
        assert all(isinstance(c, SwapGroup) and c.at == "now" for c in engine.sent)
        assert len(engine.sent) == 8


async def test_undo_and_redo_keys(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("x", "right", "x")
        await pilot.press("u")
        assert len(app.session.pattern.events) == 1
        await pilot.press("u")
        assert app.session.pattern.is_empty()
        await pilot.press("U")
        assert len(app.session.pattern.events) == 1
        await pilot.press("ctrl+r")
        assert len(app.session.pattern.events) == 2
        assert engine.of(SetPattern)[-1] == SetPattern(app.session.pattern, at="now")


async def test_param_keys_set_the_beats_genre_and_type_and_the_lanes_density(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("3", "e", "t", "d", "i", "i")  # levels start auto: then low, mid
        p = app.session.pattern.group_params(3)
        assert (p.genre, p.type, p.density, p.intensity) == ("funk", "fill", "low", "mid")
        assert p.auto == frozenset()
        params = app.session.pattern.params
        assert [(q.genre, q.type) for q in params] == [("funk", "fill")] * 4  # one beat
        assert [q.level("density") for q in params] == ["auto:mid", "auto:mid", "low", "auto:mid"]
        await pilot.press("E", "D", "I")
        p = app.session.pattern.group_params(3)
        assert (p.genre, p.level("density"), p.intensity) == ("rock", "auto:low", "low")
        assert "funk" not in str(app.query_one("#lane-3", Lane).render())
        assert engine.sent == []


async def test_transport_tempo_swing_mute_solo_keys(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        assert engine.sent[-1] == Transport("start")
        await pilot.press("space")
        assert engine.sent[-1] == Transport("stop")
        await pilot.press("plus", "equals_sign", "minus")
        assert engine.of(SetTempo) == [SetTempo(121.0), SetTempo(122.0), SetTempo(121.0)]
        await pilot.press("full_stop", "full_stop", "comma")
        assert engine.of(SetSwing)[-1] == SetSwing(51.0)
        await pilot.press("down", "m", "s")
        assert engine.of(SetMute) == [SetMute(2, True)]
        assert engine.of(SetSolo) == [SetSolo(2, True)]
        row = app.query_one("#lane-1", Lane).render().plain.splitlines()[2]
        assert row.startswith("rim   MS")


async def test_slot_keys_save_load_and_queue(app_parts, tmp_path):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("right_square_bracket", "x", "w")
        assert app.session.slot == "A02"
        assert load_bank(tmp_path / "bank.json").bank.get("A02") == app.session.pattern
        await pilot.press("backspace", "l")
        assert app.session.pattern.at(0, 1) is not None
        assert engine.sent[-1] == SetPattern(app.session.pattern, at="now")
        await pilot.press("left_square_bracket")
        assert app.session.slot == "A01"
        await pilot.press("l")
        assert message(app) == ("load: slot A01 is empty", True)
        await pilot.press("right_square_bracket")
        app.session.playing = True
        await pilot.press("b")
        assert engine.sent[-1] == SetPattern(app.session.bank.get("A02"), at="bar")
        assert app.query_one(StatusLine).view.queued == "A02"


# --- the command line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "sent"),
    [
        ("bpm 124", [SetTempo(124.0)]),
        ("swing 58", [SetSwing(58.0)]),
        ("mute 5", [SetMute(5, True)]),
        ("solo 1", [SetSolo(1, True)]),
        ("play", [Transport("start")]),
        ("stop", [Transport("stop")]),
        ("clock follow", [SetClock("external", clock_in=None)]),
        ("clock internal", [SetClock("internal")]),
        ("kick x...x...x...x...x...x...x..x.x..", None),
    ],
)
async def test_typed_commands_reach_the_engine(app_parts, line, sent):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, line)
        if sent is None:
            kick = app.session.pattern.track_events(1)
            assert [e.step for e in kick] == [0, 4, 8, 12, 16, 20, 24, 27, 29]
            assert engine.sent == [SwapGroup(1, kick, at="now")]
        else:
            assert engine.sent == sent
        assert app.focused is None  # back on the grid
        assert not message(app)[1]


async def test_save_load_chain_export_commands(app_parts, tmp_path):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "kick x...")
        await type_line(pilot, "save A03")
        await type_line(pilot, "snare ....x...")
        await type_line(pilot, "save A04")
        bank = load_bank(tmp_path / "bank.json").bank
        assert bank.filled() == ["A03", "A04"]
        await type_line(pilot, "load A03")
        assert app.session.pattern == bank.get("A03")
        target = tmp_path / "beat.mid"
        await type_line(pilot, f"export A04 {target}")
        assert target.stat().st_size > 0
        app.session.playing = True
        engine.sent.clear()
        await type_line(pilot, "chain A03*4 A04*2")
        assert engine.sent == [SetPattern(bank.get("A03"), at="bar")]
        assert "A03*4 A04*2" in str(app.query_one("SlotStrip").render())
        await type_line(pilot, "queue A04")
        assert app.session.chain is None


async def test_a_bad_command_is_an_error_in_place_and_changes_nothing(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        before = app.session.pattern
        await type_line(pilot, "gen 2 density=hgh")
        assert message(app) == ("gen: density must be one of auto, low, mid, high, got 'hgh'", True)
        command_line = app.query_one(CommandLine)
        assert command_line.value == "gen 2 density=hgh"  # left to fix
        assert app.focused is command_line
        await pilot.press("escape")
        await type_line(pilot, "dance")
        assert message(app) == ("unknown command 'dance'; type help for the list", True)
        assert app.session.pattern == before
        assert engine.sent == []


async def test_history_and_tab_completion(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "bpm 100")
        await type_line(pilot, "swing 60")
        command_line = app.query_one(CommandLine)
        await pilot.press("colon", "up")
        assert command_line.value == "swing 60"
        await pilot.press("up")
        assert command_line.value == "bpm 100"
        await pilot.press("down", "down")
        assert command_line.value == ""
        await pilot.press(*"ge", "tab")
        assert command_line.value == "gen "
        await pilot.press(*"2 den", "tab")
        assert command_line.value == "gen 2 density="
        await pilot.press("h", "tab")
        assert command_line.value == "gen 2 density=high "
        await pilot.press("escape")
        await pilot.press("colon", *"cl", "tab")
        assert command_line.value in ("clock", "clear", "clap")
        assert "clock clear clap" in message(app)[0]


async def test_help_key_and_help_command(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await type_line(pilot, "help")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await type_line(pilot, "help chain")
        assert message(app)[0].startswith("chain SLOT[*TIMES] ...")


async def test_pasted_lines_run_as_commands(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.paste_commands(":bpm 90\nkick x...\nswing 5")
        await pilot.pause()
        assert app.session.pattern.tempo == 90
        assert len(app.session.pattern.track_events(1)) == 8
        assert app.query_one(CommandLine).value == "swing 5"


async def test_ctrl_q_and_quit_exit(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "quit")
    assert app.return_code == 0


# --- engine reports -------------------------------------------------------------------------


async def test_engine_reports_arrive_as_messages_and_move_the_playhead(app_parts):
    app, engine, _ = app_parts
    seen = []

    def hook(msg):
        if isinstance(msg, EngineReported):
            seen.append(msg.report)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await ready(pilot)
        engine.report(playing=True, step=9, bar=1, output="TR-8S MIDI 1")
        await until(pilot, lambda: app.query_one(Ruler).playhead == 9)
        status = app.query_one(StatusLine).view
        assert status.playing and status.output == "TR-8S MIDI 1"
        assert isinstance(seen[0], EngineState) and seen[0].step == 9
        assert app.query_one("#lane-1", Lane).view.playhead == 9


async def test_a_lost_port_is_a_notification_and_the_app_keeps_running(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        engine.reports.append(PortError("output 'TR-8S' went away; retrying"))
        await until(pilot, lambda: app.query_one(StatusLine).view.output_error)
        assert any("went away" in n.message for n in app._notifications)
        await pilot.press("x")
        assert app.session.pattern.at(0, 1) is not None


async def test_a_dead_engine_is_reported_once(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        engine.alive = False
        await until(pilot, lambda: app.query_one(StatusLine).view.engine_error == "stopped")
        await pilot.pause(0.1)  # more polls: still one notification
        assert sum("engine stopped" in n.message for n in app._notifications) == 1


async def test_following_shows_the_incoming_tempo(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "clock follow")
        engine.report(playing=True, tempo=133.4, clock="external", locked=False)
        status = app.query_one(StatusLine)
        await until(pilot, lambda: "133.4 BPM" in status.render().plain)
        assert "133.4 BPM" in status.render().plain
        assert "clk ext unlocked" in status.render().plain
        engine.report(playing=True, tempo=133.4, clock="external", clock_lost=True)
        await until(pilot, lambda: "clk ext LOST" in status.render().plain)


async def test_bank_warnings_at_start_are_shown(tmp_path):
    app, engine, _ = make_app(tmp_path, startup_errors=["bank.json: slot C03 skipped"], bank=Bank())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert any("C03 skipped" in n.message for n in app._notifications)


async def test_the_mouse_toggles_a_cell_and_selects_a_lane(app_parts):
    from autobeat_tui.widgets.layout import grid_layout

    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        column = grid_layout(80).step_column(6)
        await pilot.click("#lane-2", offset=(column, 3))  # ohh, step 7
        assert app.session.pattern.at(6, 7) == Event(6, 7, 0, 100)
        assert (app.session.selected, app.session.cursor_track, app.session.cursor_step) == (
            2,
            7,
            6,
        )
        await pilot.click("#lane-4", offset=(2, 0))
        assert app.session.selected == 4
        assert engine.sent == [SwapGroup(2, app.session.pattern.group_events(2), at="now")]


async def test_out_lists_ports_and_picks_one(tmp_path):
    from engine.messages import SetOutput

    app, engine, _ = make_app(tmp_path, list_outputs=lambda: ["TR-8S MIDI 1", "IAC Bus 1"])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "out")
        assert message(app) == ("playing to none; outputs: TR-8S MIDI 1, IAC Bus 1", False)
        await type_line(pilot, "out TR-8S")
        assert engine.sent == [SetOutput("TR-8S")]


async def test_an_export_that_cannot_be_written_is_an_error_in_place(app_parts, tmp_path):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, f"export {tmp_path}/no/such/dir/beat.mid")
        text, error = message(app)
        assert error and "cannot write" in text
