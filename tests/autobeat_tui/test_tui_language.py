"""The command language: every command parses to its value; bad lines name the problem."""

from __future__ import annotations

import pytest

from autobeat_tui.live import language as lang
from autobeat_tui.live.completion import CompletionContext, complete
from autobeat_tui.live.language import CommandError, parse


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "gen 2 genre=funk density=high seed=7",
            lang.Gen(2, False, (("genre", "funk"), ("density", "high")), 7),
        ),
        ("gen all", lang.Gen(None, True)),
        ("gen", lang.Gen(None)),
        ("gen hats type=fill temp=0.8", lang.Gen(2, False, (("type", "fill"),), None, 0.8)),
        ("g 4", lang.Gen(4)),
        ("mutate 1 0.3", lang.Mutate(1, 0.3)),
        ("mutate", lang.Mutate(None)),
        ("mutate 0.5 seed=3", lang.Mutate(None, 0.5, 3)),
        ("set 3 intensity=next", lang.SetParams(3, (("intensity", "next"),))),
        ("bpm 124", lang.Bpm(124.0)),
        ("bpm +2", lang.Bpm(2.0, True)),
        ("bpm -2.5", lang.Bpm(-2.5, True)),
        ("swing 58", lang.Swing(58.0)),
        ("mute 5", lang.Mute(5)),
        ("mute kick off", lang.Mute(1, False)),
        ("mute all", lang.Mute(None, False)),
        ("solo 1", lang.Solo(1)),
        ("solo hh on", lang.Solo(5, True)),
        ("play", lang.Play("start")),
        ("stop", lang.Play("stop")),
        ("continue", lang.Play("continue")),
        ("undo", lang.Undo()),
        ("redo", lang.Redo()),
        ("group 3", lang.Select(3)),
        ("group cymbals", lang.Select(4)),
        ("slot next", lang.Slot(None, 1)),
        ("slot prev", lang.Slot(None, -1)),
        ("slot b07", lang.Slot("B07")),
        ("save A03", lang.Save("A03")),
        ("save", lang.Save(None)),
        ("load B01", lang.Load("B01")),
        ("queue A04", lang.Queue("A04")),
        ("chain A01*4 A02*2", lang.Chain((("A01", 4), ("A02", 2)))),
        ("chain A01 A02", lang.Chain((("A01", 1), ("A02", 1)))),
        ("chain A01x4 a2", lang.Chain((("A01", 4), ("A02", 1)))),  # as `bank ls` once wrote
        ("chain A01x2", lang.Chain((("A01", 2),))),
        ("chain off", lang.Chain(())),
        ("chain verse", lang.Chain((), "verse")),
        ("chain A01*4 A02 as verse", lang.Chain((("A01", 4), ("A02", 1)), save_as="verse")),
        ("export A01 beat.mid", lang.Export("beat.mid", "A01")),
        ("export 'my beat.mid'", lang.Export("my beat.mid", None)),
        ("render beat.wav", lang.Render("beat.wav")),
        ("render a03 beat.wav bars=16", lang.Render("beat.wav", "A03", 16)),
        ("out audio", lang.Out("audio")),
        ("clock follow", lang.Clock("follow")),
        ("clock follow TR-8S MIDI", lang.Clock("follow", "TR-8S MIDI")),
        ("clock master", lang.Clock("master")),
        ("clock internal", lang.Clock("internal")),
        ("out", lang.Out(None)),
        ("out none", lang.Out("none")),
        ("hit snare 5", lang.Hit(3, 4)),
        ("hit snare 5 90", lang.Hit(3, 4, 90)),
        ("clear kick", lang.Clear(1)),
        ("clear kick 32", lang.Clear(1, 31)),
        ("clear hats", lang.Clear(group=2)),
        ("vel ride 1 +10", lang.Velocity(12, 0, 10, True)),
        ("vel ride 1 64", lang.Velocity(12, 0, 64)),
        ("amount 0.4", lang.Amount(0.4)),
        ("help", lang.Help()),
        ("help gen", lang.Help("gen")),
        ("quit", lang.Quit()),
        ("kick", lang.StepLiteral(1, (), show=True)),
    ],
)
def test_each_command_parses(line, expected):
    assert parse(line) == expected


def test_a_step_literal_is_a_command():
    cmd = parse("kick x...x...x...x...x...x...x..x.x..")
    assert isinstance(cmd, lang.StepLiteral)
    assert cmd.track == 1
    assert [e.step for e in cmd.events] == [0, 4, 8, 12, 16, 20, 24, 27, 29]
    assert parse("hh x.x.").track == 5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "empty command"),
        ("dance", "unknown command 'dance'"),
        ("gen 5", "gen: group must be 1..4"),
        ("gen 2 density=hgh", "gen: density must be one of auto, low, mid, high, got 'hgh'"),
        ("gen 2 genre=trap", "gen: genre must be one of"),
        ("gen 2 colour=red", "gen: unknown key 'colour'"),
        ("gen 2 seed=-1", "gen: seed must be in 0..4294967295, got -1"),
        ("gen 2 temp=9", "gen: temp must be in 0.05..3, got 9"),
        ("mutate 1 2", "mutate: amount must be in 0.05..1, got 2"),
        ("bpm", "bpm: missing argument"),
        ("bpm 400", "bpm: tempo must be in 20..300, got 400"),
        ("bpm fast", "bpm: tempo must be a number in 20..300, got 'fast'"),
        ("swing 80", "swing: swing must be in 50..75, got 80"),
        ("mute 13", "mute: track must be in 1..12, got 13"),
        ("mute cowbell", "mute: unknown track 'cowbell'"),
        ("solo 1 maybe", "solo: expected on or off, got 'maybe'"),
        ("save Z99", "save: "),
        ("load A17", "load: "),
        ("chain A01*0", "chain: repeats must be in 1..99, got 0 in 'A01*0'"),
        ("chain", "chain: missing slots"),
        ("chain A01 as", "chain: 'as' takes one name after the slots"),
        ("chain as verse", "chain: 'as' takes one name after the slots"),
        ("chain A01 as B02", "chain: a chain name must not look like a slot, got 'B02'"),
        ("export A01 beat.wav", "export: the file must end in .mid or .midi"),
        ("render beat.mid", "render: the file must end in .wav, got 'beat.mid'"),
        ("render", "render: missing file"),
        ("render beat.wav bars=0", "render: bars must be in 1..1024, got 0"),
        ("render Z99 beat.wav", "render: "),
        ("clock slave", "clock: mode must be one of internal, master, follow"),
        ("clock internal port", "clock: only follow takes a port"),
        ("hit kick 33", "hit: step must be in 1..32, got '33'"),
        ("vel kick 1", "vel: missing argument"),
        ("kick x..", "kick: a step literal has 32 steps"),
        ("undo now", "undo: unexpected 'now'"),
        ("help dance", "help: unknown command 'dance'"),
        ("gen 'open", "cannot read the line"),
    ],
)
def test_bad_lines_get_one_line_errors(line, message):
    with pytest.raises(CommandError) as info:
        parse(line)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_genres_come_from_the_model():
    assert parse("gen 1 genre=trap", genres=("trap",)).params == (("genre", "trap"),)


def test_every_command_has_a_usage_line():
    assert set(lang.USAGE) == set(lang.PARSERS)


def test_completion_of_command_names_and_tracks():
    assert complete("ge").candidates == ("gen",)
    assert complete("cl").candidates == ("clock", "clear", "clap")
    assert "kick" in complete("ki").candidates


def test_completion_of_keys_and_values():
    assert complete("gen 2 den").candidates == ("density=",)
    done = complete("gen 2 density=h")
    assert done.candidates == ("high",)
    assert done.start == len("gen 2 density=")
    assert complete("gen 2 genre=fu", CompletionContext(genres=("funk", "jazz"))).candidates == (
        "funk",
    )
    assert complete("set 1 type=").candidates == ("beat", "fill", "next", "prev")


def test_completion_of_slots_ports_and_literals():
    ctx = CompletionContext(
        filled_slots=("A01", "B03"), outputs=("TR-8S",), literals={1: "x... x..."}
    )
    assert complete("load ", ctx).candidates == ("A01", "B03")
    assert complete("save A1", ctx).candidates == tuple(f"A{n}" for n in range(10, 17))
    assert complete("out ", ctx).candidates == ("TR-8S", "audio", "none")
    assert complete("kick ", ctx).candidates == ("x... x...",)
    assert complete("clock ").candidates == ("internal", "master", "follow", "link")
    assert complete("clock link ").candidates == ("master",)
    assert complete("mute all ").candidates == ("on", "off")


def test_common_prefix():
    assert complete("s").common_prefix() == "s"
    assert complete("sa").common_prefix() == "save"
