"""`:clock` with no mode: the clock at a glance."""

from __future__ import annotations

from autobeat_tui.live import language as lang
from autobeat_tui.live.clockview import describe_clock
from autobeat_tui.widgets.command_line import MessageLine
from engine.messages import ClockInfo, EngineState
from tests.autobeat_tui.conftest import make_app, until


def test_midi_following_names_port_tempo_jitter_lock_offset_and_drift():
    info = ClockInfo("midi", port="jack_midi_clock:mclk_out", tempo=133.004, jitter_ms=0.021,
                     locked=True, locked_for_s=75, offset_ms=0.04, drift_ms=-0.12,
                     drift_span_s=60)
    state = EngineState(clock="external", clock_info=info)
    assert describe_clock(state, "follow") == (
        "clock: MIDI jack_midi_clock:mclk_out · 133.00 BPM · jitter 0.02 ms · locked 1 min 15 s"
        " · offset +0.04 ms · drift -0.12 ms over 1 min 0 s")


def test_a_problem_replaces_the_lock_and_link_counts_peers():
    info = ClockInfo("midi", tempo=120.0, locked=False)
    state = EngineState(clock="external", clock_lost=True, clock_info=info,
                        clock_problem="clock input stopped (no tick for 200 ms): playing on")
    assert describe_clock(state, "follow") == (
        "clock: MIDI clock in · 120.00 BPM · clock input stopped (no tick for 200 ms): playing on")
    link = EngineState(clock_info=ClockInfo("link", tempo=128.0, peers=1, locked=True,
                                            locked_for_s=3))
    assert describe_clock(link, "link") == "clock: Link, 1 peer · 128.00 BPM · locked 3 s"
    internal = EngineState(clock_info=ClockInfo("internal", tempo=97.0))
    assert describe_clock(internal, "master") == "clock: master, sending MIDI clock · 97.00 BPM"


def test_clock_alone_parses_as_show():
    assert lang.parse("clock") == lang.Clock(None)


async def test_clock_in_the_app_shows_the_engines_clock(tmp_path):
    app, engine, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 24)) as pilot:
        engine.report(clock="external", clock_info=ClockInfo(
            "midi", port="mclk", tempo=133.0, jitter_ms=0.5, locked=True, locked_for_s=4))
        await until(pilot, lambda: app.session.engine.clock == "external")
        await pilot.press("colon", *"clock", "enter")
        await pilot.pause()
        said = app.query_one(MessageLine).message
        assert said == "clock: MIDI mclk · 133.00 BPM · jitter 0.50 ms · locked 4 s"


async def test_clock_link_in_the_app_asks_the_engine_to_join(tmp_path):
    from engine.messages import SetClock

    app, engine, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.press("colon", *"clock link", "enter")
        await pilot.pause()
        assert engine.of(SetClock) == [SetClock("link")]
        assert app.session.clock_mode == "link"


def test_link_master_joins_and_sends_midi_clock_on_the_sessions_beats(tmp_path):
    from autobeat_tui.live.session import Session
    from engine.messages import SetClock
    from patterns.pattern import Pattern

    assert lang.parse("clock link master") == lang.Clock("link", "master")
    session = Session(Pattern())
    said = session.run(lang.parse("clock link master"))
    assert said == "clock link, sending MIDI clock on the session's beats"
    assert session.take_outbox() == [SetClock("link", send_clock=True)]
    assert session.clock_mode == "link"
    session.run(lang.parse("clock link"))
    assert session.take_outbox() == [SetClock("link", send_clock=False)]
    sending = EngineState(clock_info=ClockInfo("link", tempo=128.0, peers=2, locked=True,
                                               locked_for_s=3, sending=True))
    assert describe_clock(sending, "link") == (
        "clock: Link, 2 peers, sending MIDI clock · 128.00 BPM · locked 3 s")


def test_link_takes_master_and_nothing_else():
    import pytest

    with pytest.raises(lang.CommandError, match="only follow takes a port .and link takes "
                                                "master."):
        lang.parse("clock link slave")
