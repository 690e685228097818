"""Latency offsets per output: the settings file, `:latency`, and the engine's shift."""

from __future__ import annotations

import json

import pytest

from autobeat_tui.live import language as lang
from autobeat_tui.settings import Settings, SettingsError
from autobeat_tui.widgets.command_line import MessageLine
from engine.messages import SetLatency
from tests.autobeat_tui.conftest import make_app, until


def test_offsets_are_kept_by_name_fragment_and_survive_a_reload(tmp_path):
    path = tmp_path / "cfg" / "settings.json"
    s = Settings.load(path)
    assert s.latency_for("TR-8S:TR-8S MIDI 1") == 0.0
    s.set_latency("TR-8S", 12.5)
    s.set_latency("volca", -7)
    again = Settings.load(path)
    assert again.latency_for("TR-8S:TR-8S MIDI 1") == 12.5
    assert again.latency_for("volca beats:in") == -7.0
    assert json.loads(path.read_text())["latency_ms"] == {"TR-8S": 12.5, "volca": -7.0}
    again.set_latency("tr-8s", 0)  # 0 forgets it
    assert Settings.load(path).latency_ms == {"volca": -7.0}


def test_out_of_range_is_refused_with_the_range_named(tmp_path):
    s = Settings.load(tmp_path / "settings.json")
    with pytest.raises(ValueError, match=r"latency must be in -100\.\.100 ms, got 150"):
        s.set_latency("TR-8S", 150)
    with pytest.raises(lang.CommandError, match=r"latency: must be in -100\.\.100 ms, got -101"):
        lang.parse("latency TR-8S -101")
    assert not (tmp_path / "settings.json").exists()


def test_a_broken_settings_file_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"latency_ms": {"TR-8S": 900}}')
    with pytest.raises(SettingsError, match="not a settings file"):
        Settings.load(path)


def test_the_language_reads_latency():
    assert lang.parse("latency") == lang.Latency()
    assert lang.parse("latency 8") == lang.Latency(None, 8.0)
    assert lang.parse("latency TR-8S MIDI 1 -4.5") == lang.Latency("TR-8S MIDI 1", -4.5)
    with pytest.raises(lang.CommandError, match="milliseconds"):
        lang.parse("latency TR-8S")


async def test_latency_in_the_app_shifts_the_output_playing_and_is_kept(tmp_path):
    settings = Settings.load(tmp_path / "settings.json")
    settings.set_latency("volca", 9)
    app, engine, _ = make_app(tmp_path, settings=settings)
    async with app.run_test(size=(100, 24)) as pilot:
        engine.report(output="TR-8S:TR-8S MIDI 1")
        await until(pilot, lambda: app.session.engine.output.startswith("TR-8S"))
        assert not engine.of(SetLatency)  # nothing kept for it: no shift
        await pilot.press("colon", *"latency TR-8S 12", "enter")
        await pilot.pause()
        assert engine.of(SetLatency) == [SetLatency(12.0)]
        assert app.query_one(MessageLine).message == "latency TR-8S: 12 ms earlier (kept)"
        assert Settings.load(tmp_path / "settings.json").latency_for("TR-8S") == 12.0
        engine.report(output="volca:in")  # another output: its own offset
        await until(pilot, lambda: len(engine.of(SetLatency)) == 2)
        assert engine.of(SetLatency)[-1] == SetLatency(9.0)
        await pilot.press("colon", *"latency 150", "enter")
        await pilot.pause()
        line = app.query_one(MessageLine)
        assert line.message == "latency: must be in -100..100 ms, got 150"
        assert line.has_class("-error")
