"""Snapshots of the screens at fixed sizes, with fixed content (no clock, no randomness).

Update after an intended change with ``pytest tests/autobeat_tui --snapshot-update``
and look at the SVGs in tests/autobeat_tui/__snapshots__/.
"""

from __future__ import annotations

from autobeat_tui.live.language import parse
from autobeat_tui.live.session import GENERATING, WAITING
from engine.messages import PortError
from patterns.bank import Bank
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.conftest import make_app, until

BEAT = [
    "kick X.....x...x.....x.X.....x...x.x.",
    "snare ....x.......x.......x.....g.x...",
    "clap ............x...............x...",
    "chh x.o.x.o.x.o.x.o.x.o.x.o.x.o.x.o.",
    "ohh ..............x...............x.",
    "ltom ............................4.4.",
    "crash x...............................",
    "ride ........x.......x.......x.......",
]


def _app(tmp_path):
    pattern = Pattern()
    bank = Bank().with_slot("A01", pattern).with_slot("A03", pattern)
    app, engine, model = make_app(tmp_path, pattern=pattern, bank=bank)
    for line in BEAT:
        app.session.run(parse(line))
    # hand-placed micro-timing: a laid-back snare, a pushed hat
    app.session.set_hit(3, 12, 90)
    pushed = app.session.pattern.with_event(Event(12, 3, 14, 90)).with_event(Event(6, 5, -12, 70))
    app.session.history.commit(pushed)
    app.session.run(parse("mute ohh on"))
    app.session.run(parse("solo kick on"))
    app.session.cursor_track, app.session.cursor_step = 3, 8
    return app, engine


def _before(app, engine, *, lanes=True):
    async def run_before(pilot) -> None:
        await until(pilot, lambda: app.engine_ready and app.model is not None)
        engine.report(playing=True, step=5, bar=1, output="TR-8S MIDI 1", tempo=120.0)
        await until(pilot, lambda: app.session.engine.playing)
        if lanes:
            app.session.lane_state[2] = GENERATING
            app.session.lane_state[4] = WAITING
        app.say("generating hats (seed 7)")
        await pilot.pause()  # the screen follows the state when the app is idle

    return run_before


def test_main_screen_80x24(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_before(app, engine))


def test_main_screen_120x40(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_before(app, engine))


def test_help_screen(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    assert snap_compare(
        app,
        terminal_size=(80, 24),
        run_before=_before(app, engine, lanes=False),
        press=["question_mark"],
    )


def test_error_notification(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    before = _before(app, engine, lanes=False)

    async def run_before(pilot) -> None:
        await before(pilot)
        engine.reports.append(PortError("MIDI output 'TR-8S MIDI 1' went away; retrying"))
        await until(pilot, lambda: app.output_error)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_command_error_in_place(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    assert snap_compare(
        app,
        terminal_size=(80, 24),
        run_before=_before(app, engine, lanes=False),
        press=["colon", *"bpm 400", "enter"],
    )


def test_main_screen_no_color(snap_compare, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app, engine = _app(tmp_path)
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=_before(app, engine))


def test_small_screen_60x20_folds(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    assert snap_compare(app, terminal_size=(60, 20), run_before=_before(app, engine))


def test_too_small_screen_says_the_size_it_needs(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    assert snap_compare(app, terminal_size=(40, 15), run_before=_before(app, engine))


def test_read_only_bank_and_a_playing_chain_80x24(snap_compare, tmp_path):
    app, engine = _app(tmp_path)
    app.session.bank_writable = False
    app._startup_errors = ["/home/you/.local/share/autobeat/default.json: the bank is in use "
                           "by process 4242 (autobeat); opened read-only"]
    before = _before(app, engine, lanes=False)

    async def run_before(pilot) -> None:
        await before(pilot)
        app.run_line("chain A01*2 A03", typed=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
