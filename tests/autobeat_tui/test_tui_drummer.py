"""Issue 13 in the app: conditional trigs in the language and the session, fills on
demand (`f`), phrases and variations, export with loops; the app on test doubles."""

from __future__ import annotations

import random

import mido
import pytest

from autobeat_tui.app import AutoBeatApp
from autobeat_tui.live import language as lang
from autobeat_tui.live.drummer import Drummer
from autobeat_tui.live.session import CommandError, Session
from autobeat_tui.live.steps import format_track
from autobeat_tui.widgets.command_line import MessageLine
from autobeat_tui.widgets.lane import Lane, row_text
from autobeat_tui.widgets.status_line import StatusLine
from codec.midi import write_midi
from engine.messages import CancelOnce, EngineState, PlayOnce, SetPattern, SetTrigSeed
from patterns.bank import Bank, load_bank, save_bank
from patterns.conditions import FORMS, parse_condition, played_out
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.conftest import make_app, until

SIZE = (100, 30)
GROOVE = Pattern(tuple(Event(s, 5) for s in range(0, 32, 2))
                 + (Event(0, 1), Event(16, 1), Event(8, 3), Event(24, 3)))


def run(session: Session, line: str):
    return session.run(lang.parse(line, session.genres))


@pytest.fixture
def session(tmp_path):
    return Session(GROOVE, bank=Bank(), bank_path=tmp_path / "bank.json", save_bank=save_bank,
                   write_midi=write_midi, rng=random.Random(5))


# --- the language ---------------------------------------------------------------------

@pytest.mark.parametrize("line,text", [
    ("cond kick 5 1:2", "1:2"), ("cond chh 3 40%", "40%"), ("cond kick 5 fill", "FILL"),
    ("cond kick 5 not fill", "!FILL"), ("cond kick 5 !pre", "!PRE"), ("cond kick 5 PRE", "PRE"),
    ("cond kick 5 4:4", "4:4"),
])
def test_cond_reads_every_form(line, text):
    cmd = lang.parse(line)
    assert isinstance(cmd, lang.Cond) and str(cmd.condition) == text


@pytest.mark.parametrize("bad", ["0:2", "7:4", "140%", "0%", "1:9", "maybe", "1:1"])
def test_a_bad_condition_is_one_line_naming_the_forms(bad):
    with pytest.raises(lang.CommandError) as err:
        lang.parse(f"cond kick 5 {bad}")
    text = str(err.value)
    assert "\n" not in text
    assert text == f"cond: {bad!r} is not a condition; accepted: {FORMS}, off"


def test_step_literals_carry_conditions_and_write_them_back():
    cmd = lang.parse("snare ....x[1:2]...o[40%] ...x[fill]...")
    assert [e.step for e in cmd.events] == [4, 8, 12, 20, 24, 28]
    assert dict(cmd.conditions) == {(4, 3): parse_condition("1:2"),
                                    (8, 3): parse_condition("40%"),
                                    (12, 3): parse_condition("FILL"),
                                    (20, 3): parse_condition("1:2"),
                                    (24, 3): parse_condition("40%"),
                                    (28, 3): parse_condition("FILL")}
    text = format_track(cmd.events, 3, cmd.conditions)
    assert text == "....x[1:2]...5[40%]...x[FILL]... ....x[1:2]...5[40%]...x[FILL]..."
    again = lang.parse(f"snare {text}")
    assert again.conditions == cmd.conditions
    with pytest.raises(lang.CommandError, match=r"snare: a condition goes in \[ \] right after"):
        lang.parse("snare [1:2]x...")
    with pytest.raises(lang.CommandError, match="not a condition: '7:4'"):
        lang.parse("snare x[7:4]...")


def test_crash_on_off_is_the_setting_and_crash_steps_the_track():
    assert lang.parse("crash off") == lang.Crash(False)
    assert isinstance(lang.parse("crash x..............."), lang.StepLiteral)
    assert lang.parse("phrase 8") == lang.Phrase(8) and lang.parse("phrase off") == lang.Phrase(0)
    with pytest.raises(lang.CommandError, match="phrase: bars must be one of 4, 8, 16 or off"):
        lang.parse("phrase 5")
    assert lang.parse("vary 0.1") == lang.Vary(0.1) and lang.parse("vary off") == lang.Vary(0.0)


# --- the session ----------------------------------------------------------------------

def test_cond_sets_cycles_and_clears_and_the_engine_gets_the_pattern(session):
    assert run(session, "cond kick 17 1:2") == "kick step 17: 1:2"
    assert session.pattern.cond_at(16, 1) == parse_condition("1:2")
    assert session.take_outbox() == [SetPattern(session.pattern, at="now")]
    run(session, "cond kick 17 next")
    assert str(session.pattern.cond_at(16, 1)) == "2:2"
    run(session, "cond kick 17 off")
    assert session.pattern.cond_at(16, 1) is None
    run(session, "cond kick 17 prev")
    assert str(session.pattern.cond_at(16, 1)) == "!PRE"
    with pytest.raises(CommandError, match="cond: no hit on kick step 2 to put a condition on"):
        run(session, "cond kick 2 50%")
    run(session, "undo")
    assert session.pattern.cond_at(16, 1) is None
    assert run(session, "cond seed 9") == "conditions play out from seed 9"
    assert SetTrigSeed(9) in session.take_outbox()
    run(session, "cond chh 3 40%")
    assert run(session, "cond") == "conditions: chh 3 40%"
    run(session, "clear chh 3")  # the hit goes, its condition with it
    assert session.pattern.conditions == ()


def test_conditions_survive_save_and_load(session, tmp_path):
    run(session, "cond snare 9 3:4")
    run(session, "phrase 8")
    run(session, "vary 0.1")
    run(session, "save A02")
    stored = load_bank(tmp_path / "bank.json").bank.get("A02")
    assert stored.cond_at(8, 3) == parse_condition("3:4")
    assert (stored.phrase, stored.vary) == (8, 0.1)
    run(session, "cond snare 9 off")
    run(session, "load A02")
    assert session.pattern.cond_at(8, 3) == parse_condition("3:4")


def test_export_renders_loops_with_the_conditions_played_out(session, tmp_path):
    run(session, "cond kick 1 1:2")
    run(session, "cond chh 3 50%")
    target = tmp_path / "four.mid"
    assert run(session, f"export {target} loops=4").endswith("four.mid, 4 loops")
    midi = mido.MidiFile(str(target))
    now = 0
    kicks = []
    for msg in midi.tracks[1]:
        now += msg.time
        if msg.type == "note_on" and msg.note == 36:
            kicks.append(now // (midi.ticks_per_beat // 4))
    assert kicks == [0, 16, 48, 64, 80, 112]  # step 1 on loops 1 and 3 only; step 17 always
    expected = played_out(session.pattern, 4, 0)
    hats = sum(1 for loop in expected for e in loop.events if e.track == 5)
    notes = sum(1 for m in midi.tracks[1] if m.type == "note_on" and m.note == 42)
    assert notes == hats and 4 * 15 < hats < 4 * 16


def test_phrase_plans_a_fill_for_the_last_bar_of_every_phrase():
    drummer = Drummer(random.Random(1))
    groove = Pattern(GROOVE.events, phrase=4)
    jobs = drummer.on_state(EngineState(playing=True, bar=0), groove)
    # this phrase's fill and the next one's, written ahead
    assert [(j.kind, j.at_bar, j.bar) for j in jobs] == [("fill", 3, 1), ("fill", 7, 1)]
    assert drummer.on_state(EngineState(playing=True, bar=0), groove) == []
    for bar in (1, 2, 3):
        assert drummer.on_state(EngineState(playing=True, bar=bar), groove) == []
    jobs = drummer.on_state(EngineState(playing=True, bar=4), groove)
    assert [(j.kind, j.at_bar) for j in jobs] == [("fill", 11)]
    cmd = drummer.ready(jobs[0], groove)
    assert cmd == PlayOnce(groove, 1, fill=True, crash=True, at_bar=11)
    drummer.crash = False
    varied = Pattern(GROOVE.events, phrase=8, vary=0.1)
    drummer.reset()
    jobs = drummer.on_state(EngineState(playing=True, bar=8), varied)
    assert [(j.kind, j.at_bar) for j in jobs] == [("fill", 15), ("fill", 23), ("vary", 9)]
    assert drummer.ready(jobs[2], varied) == PlayOnce(varied, 1, fill=False, crash=False,
                                                      at_bar=9)
    jobs = drummer.on_state(EngineState(playing=True, bar=14), varied)
    assert jobs == []  # bar 15 is the fill's, not a variation's


def test_a_late_fill_is_said(session):
    assert session.on_state(EngineState(playing=True, bar=3)) == []
    assert session.on_state(EngineState(playing=True, bar=3, once_late=1)) == [
        "a fill was not ready before its bar: it plays a bar later"]
    assert session.on_state(EngineState(playing=True, bar=4, once_late=1)) == []


def test_phrase_off_cancels_what_waits(session):
    run(session, "phrase 4")
    assert session.pattern.phrase == 4
    session.take_outbox()
    run(session, "phrase off")
    assert session.take_outbox() == [CancelOnce()]
    run(session, "phrase 8")
    assert session.take_outbox() == []  # nothing was planned: nothing to cancel
    session.playing = True
    session.engine = EngineState(playing=True, bar=1)
    run(session, "phrase 4")
    assert session.take_outbox() == [CancelOnce()]
    assert [(j.kind, j.at_bar) for j in session.take_jobs()] == [("fill", 3), ("fill", 7)]


# --- the app (Pilot) --------------------------------------------------------------------

async def ready(pilot) -> None:
    app: AutoBeatApp = pilot.app
    await until(pilot, lambda: app.engine_ready and app.model is not None)
    app.engine.sent.clear()


async def test_f_arms_a_fill_that_plays_in_the_next_bar(tmp_path):
    app, engine, model = make_app(tmp_path, pattern=GROOVE)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        engine.report(playing=True, bar=2, step=36 % 32)
        await until(pilot, lambda: app.session.playing)
        await pilot.press("f")
        await until(pilot, lambda: engine.of(PlayOnce))
        assert model.calls[-1][:2] == ("fill", 1)  # bar 3 comes next: the groove's bar 2
        [once] = engine.of(PlayOnce)
        assert (once.bar, once.fill, once.crash, once.at_bar) == (1, True, True, None)
        assert [e.step for e in once.pattern.events if e.track == 3][-4:] == [28, 29, 30, 31]
        assert app.session.pattern == GROOVE  # the groove is unchanged
        engine.report(playing=True, bar=2, fill="waiting", fill_bar=3)
        await until(pilot, lambda: "fill waits for bar 4" in app.query_one(StatusLine).view.fill)
        engine.report(playing=True, bar=3, fill="playing", fill_bar=3)
        await until(pilot, lambda: app.query_one(StatusLine).view.fill == "fill ▶")
        assert "fill ▶" in str(app.query_one(StatusLine).render())
        await pilot.press("colon", *"crash off", "enter")
        await pilot.press("f")
        await until(pilot, lambda: len(engine.of(PlayOnce)) == 2)
        assert engine.of(PlayOnce)[1].crash is False


async def test_phrase_4_plays_a_fill_at_the_end_of_every_phrase(tmp_path):
    app, engine, model = make_app(tmp_path, pattern=GROOVE)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        engine.report(playing=True, bar=0)
        await until(pilot, lambda: app.session.playing)
        await pilot.press("colon", *"phrase 4", "enter")
        await until(pilot, lambda: len(engine.of(PlayOnce)) >= 2)
        assert [o.at_bar for o in engine.of(PlayOnce)] == [3, 7]
        assert "phrase 4" in str(app.query_one(StatusLine).render())
        for bar in range(1, 9):
            engine.report(playing=True, bar=bar)
            await until(pilot, lambda b=bar: app.session.engine.bar == b)
        await until(pilot, lambda: len(engine.of(PlayOnce)) >= 4)
        await app.workers.wait_for_complete()
        assert [o.at_bar for o in engine.of(PlayOnce)] == [3, 7, 11, 15]  # a phrase ahead
        assert all(o.fill and o.bar == 1 for o in engine.of(PlayOnce))


async def test_f_without_a_model_says_so_and_the_groove_plays_on(tmp_path):
    def missing():
        raise RuntimeError("no model file")

    app, engine, _ = make_app(tmp_path, pattern=GROOVE, load_model=missing)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine_ready and app.model_status.error)
        engine.sent.clear()
        await pilot.press("f")
        await pilot.pause()
        line = app.query_one(MessageLine)
        assert line.has_class("-error")
        assert line.message == "fill: the model is not available; the groove plays on"
        assert engine.sent == []


async def test_c_cycles_the_condition_under_the_cursor_and_the_grid_shows_it(tmp_path):
    app, engine, _ = make_app(tmp_path, pattern=GROOVE)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("c")  # the cursor starts on kick step 1
        assert str(app.session.pattern.cond_at(0, 1)) == "50%"
        await pilot.press("c", "c")
        assert str(app.session.pattern.cond_at(0, 1)) == "2:2"
        lane = app.query_one("#lane-1", Lane)
        assert lane.view.conditions == (((0, 1), parse_condition("2:2")),)
        assert "│▆2·" in row_text(lane.view, 1, 100).plain  # the 2 of 2:2 after the hit
        await pilot.press("C")
        assert str(app.session.pattern.cond_at(0, 1)) == "1:2"
        assert engine.of(SetPattern)[-1].pattern == app.session.pattern


def test_phrase_4_in_the_player_three_bars_of_groove_then_a_fill_and_a_crash_on_the_1():
    """The drummer and the real player (fake clock): phrase after phrase."""
    from dataclasses import replace as _replace

    from engine.player import START_LEAD, Player
    from tests.autobeat_tui.tui_doubles import FakeModel
    from tests.engine.engine_fakes import FakeClock, RecordingPort

    clock = FakeClock()
    port = RecordingPort(clock)
    player = Player(port, clock)
    player.set_tempo(174.0, clock())
    groove = _replace(GROOVE, phrase=4)
    player.set_pattern(groove)
    player.transport("start", clock())
    t0 = clock() + START_LEAD
    step = 60.0 / 174.0 / 4
    drummer, model = Drummer(random.Random(2)), FakeModel()
    end = t0 + 8 * 16 * step - step / 2
    while True:  # the engine loop, with the app's part (states in, PlayOnce out) between
        for job in drummer.on_state(player.state(clock(), "x"), groove):
            cmd = drummer.ready(job, model.fill(job.groove, job.bar, job.seed))
            player.play_once(cmd.pattern, cmd.bar, cmd.fill, cmd.crash, cmd.at_bar)
        due = player.next_due()
        if due is None or due > end:
            break
        clock.t = due
        player.run_due(due)

    def bars_of(note):
        return sorted({round((t - t0) / step) // 16 for t, m in port.note_ons() if m[1] == note})

    assert bars_of(47) == [3, 7]  # the fill's toms: the last bar of each phrase
    assert bars_of(49) == [4]  # a crash on the 1 after the first fill (bar 8 is not played)
    assert bars_of(42) == [0, 1, 2, 4, 5, 6]  # the groove's hats: three bars, then again
    snares = sorted(round((t - t0) / step) for t, m in port.note_ons() if m[1] == 38)
    assert [s for s in snares if s // 16 == 3] == [60, 61, 62, 63]  # the roll leads into the 1


async def test_vary_plays_the_hats_varied_and_saves_the_groove(tmp_path):
    app, engine, model = make_app(tmp_path, pattern=GROOVE)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        engine.report(playing=True, bar=0)
        await until(pilot, lambda: app.session.playing)
        await pilot.press("colon", *"vary 0.2", "enter")
        engine.report(playing=True, bar=2)
        await until(pilot, lambda: engine.of(PlayOnce))
        await app.workers.wait_for_complete()
        [once] = engine.of(PlayOnce)
        assert (once.bar, once.fill, once.crash, once.at_bar) == (1, False, False, 3)
        assert ("mutate", 2, 0.2) == model.calls[-1][:3]  # the hats, by the amount asked
        assert once.pattern.group_events(2) != GROOVE.group_events(2)
        assert app.session.pattern.group_events(2) == GROOVE.group_events(2)
        await pilot.press("colon", *"save A05", "enter")
        stored = load_bank(tmp_path / "bank.json").bank.get("A05")
        assert stored.events == GROOVE.events and stored.vary == 0.2


def test_the_status_line_and_a_narrow_grid_show_the_drummer():
    from autobeat_tui.widgets.lane import LaneView
    from autobeat_tui.widgets.status_line import StatusView, status_text
    from patterns.pattern import GroupParams

    text = status_text(StatusView(fill="fill armed", phrase=4, vary=0.1), 120).plain
    assert "phrase 4 vary 0.1 fill armed" in text
    assert "phrase" not in status_text(StatusView(), 120).plain
    view = LaneView(1, (Event(0, 1, 0, 100), Event(4, 1, 0, 100)), GroupParams(),
                    conditions=(((4, 1), parse_condition("!FILL")),))
    narrow = row_text(view, 1, 60).plain  # one column a step: the condition's glyph
    assert narrow.split()[1][:7] == "│▆···┆f"
    wide = row_text(view, 1, 120).plain  # the glyph where the timing mark goes
    assert "▆f" in wide and wide.count("▆") == 2
