"""The app and the sound card: `:out audio`, the engine's audio reports, `:render`."""

from __future__ import annotations

from autobeat_tui.widgets.command_line import CommandLine
from autobeat_tui.widgets.status_line import StatusLine
from engine.drumsynth import builtin_sounds
from engine.messages import AudioProblem, EngineState, SetOutput
from engine.render import render, wav_bytes
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.conftest import make_app, until
from tests.autobeat_tui.test_tui_pilot import SIZE, message, ready, type_line

BEAT = Pattern((Event(0, 1, 0, 110), Event(4, 3, 0, 100), Event(8, 5, 7, 80)), tempo=120.0)


async def test_out_audio_reaches_the_engine_and_the_status_line_says_so(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "out audio")
        assert engine.sent == [SetOutput("audio")]
        engine.reports.append(EngineState(output="audio"))
        await until(pilot, lambda: app.query_one(StatusLine).view.output == "audio")
        assert "out audio" in str(app.query_one(StatusLine).render())
        assert not app.query_one(StatusLine).view.output_error


async def test_no_audio_device_is_one_line_and_the_app_runs_on(app_parts):
    app, engine, _ = app_parts
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        engine.reports.append(AudioProblem("no audio device (any backend: x); MIDI plays on"))
        await until(pilot, lambda: app.messages and "no audio device" in app.messages[-1])
        # a problem outside the user's command: a toast, kept whole for :messages
        assert app.messages[-1] == "✗ audio: no audio device (any backend: x); MIDI plays on"
        assert any("no audio device" in n.message for n in app._notifications)
        assert not app.output_error  # MIDI is fine
        await type_line(pilot, "bpm 130")
        assert app.session.pattern.tempo == 130


async def test_render_writes_what_plays(tmp_path):
    app, engine, _ = make_app(tmp_path, pattern=BEAT)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, "mute kick")
        target = tmp_path / "beat.wav"
        await type_line(pilot, f"render {target} bars=2")
        await until(pilot, lambda: not message(app)[0].startswith("rendering"), timeout=60)
        assert message(app) == (f"rendered 2 bars (4.0 s, 2 hits) to {target}", False)
    # the same bytes as a render of the pattern with the kick muted
    expected = wav_bytes(render(BEAT, builtin_sounds(48000), 2, 48000, mutes=(1,)).samples,
                         48000)
    assert target.read_bytes() == expected


async def test_render_errors_in_place(tmp_path):
    app, engine, _ = make_app(tmp_path, pattern=BEAT)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_line(pilot, f"render A09 {tmp_path / 'x.wav'}")
        assert message(app) == ("render: slot A09 is empty", True)
        app.query_one(CommandLine).value = ""
        await type_line(pilot, "render beat.mp3")
        assert message(app) == ("render: the file must end in .wav, got 'beat.mp3'", True)
        app.query_one(CommandLine).value = ""
        bad = tmp_path / "no" / "dir" / "x.wav"
        await type_line(pilot, f"render {bad}")
        await until(pilot, lambda: message(app)[1], timeout=60)
        assert message(app) == (f"render: {bad}: {str(bad.parent)!r} does not exist", True)
    assert not (tmp_path / "x.wav").exists()
