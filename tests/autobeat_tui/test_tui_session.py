"""The session: what each action changes and what it sends the engine."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from autobeat_tui.live import language as lang
from autobeat_tui.live.session import GENERATING, IDLE, WAITING, CommandError, Session
from codec.midi import midi_to_pattern, write_midi
from engine.messages import (
    EngineState,
    SetClock,
    SetMute,
    SetOutput,
    SetPattern,
    SetSolo,
    SetSwing,
    SetTempo,
    SwapGroup,
    Transport,
)
from patterns.bank import Bank, load_bank, save_bank
from patterns.pattern import Event, Pattern


def run(session: Session, line: str):
    return session.run(lang.parse(line, session.genres))


@pytest.fixture
def session(tmp_path):
    return Session(
        bank=Bank(),
        bank_path=tmp_path / "bank.json",
        save_bank=save_bank,
        write_midi=write_midi,
        rng=random.Random(5),
    )


def test_a_step_literal_edits_one_track_and_plays_at_once(session):
    run(session, "kick x...x...x...x...x...x...x..x.x..")
    assert [e.step for e in session.pattern.track_events(1)] == [0, 4, 8, 12, 16, 20, 24, 27, 29]
    [swap] = session.take_outbox()
    assert swap == SwapGroup(1, session.pattern.group_events(1), at="now")


def test_hit_clear_and_velocity(session):
    run(session, "hit snare 5 90")
    assert session.pattern.at(4, 3) == Event(4, 3, 0, 90)
    run(session, "vel snare 5 +10")
    assert session.pattern.at(4, 3).velocity == 100
    run(session, "vel snare 5 +100")
    assert session.pattern.at(4, 3).velocity == 127
    run(session, "clear snare 5")
    assert session.pattern.at(4, 3) is None
    with pytest.raises(CommandError, match="no hit on snare step 5"):
        run(session, "vel snare 5 +10")
    assert all(isinstance(c, SwapGroup) and c.group == 1 for c in session.take_outbox())


def test_clearing_a_group_keeps_the_others(session):
    run(session, "kick x...")
    run(session, "chh x.x.")
    run(session, "clear drums")
    assert session.pattern.group_events(1) == ()
    assert len(session.pattern.group_events(2)) == 16


def test_undo_and_redo_send_the_whole_pattern(session):
    run(session, "kick x...")
    session.take_outbox()
    assert run(session, "undo") == "undone"
    assert session.pattern.is_empty()
    assert session.take_outbox() == [SetPattern(Pattern(), at="now")]
    run(session, "redo")
    assert len(session.pattern.track_events(1)) == 8
    assert run(session, "redo") == "nothing to redo"


def test_tempo_and_swing_clamp_and_send(session):
    run(session, "bpm 124")
    run(session, "bpm +200")
    run(session, "swing 58")
    assert session.pattern.tempo == 300
    assert session.pattern.swing == 58
    assert session.take_outbox() == [SetTempo(124.0), SetTempo(300.0), SetSwing(58.0)]


def test_mute_and_solo_toggle_and_clear(session):
    run(session, "mute 5")
    run(session, "mute 5")
    run(session, "mute kick on")
    run(session, "solo 1")
    assert session.mutes == {1}
    assert session.solos == {1}
    run(session, "mute all off")
    assert session.take_outbox() == [
        SetMute(5, True),
        SetMute(5, False),
        SetMute(1, True),
        SetSolo(1, True),
        SetMute(1, False),
    ]


def test_params_cycle_within_their_choices(session):
    session.select(2)
    assert session.pattern.group_params(2).level("density") == "auto:mid"
    session.cycle("density")  # auto -> low -> mid: pinned
    assert session.pattern.group_params(2).level("density") == "low"
    session.cycle("density")
    assert session.pattern.group_params(2).level("density") == "mid"
    session.cycle("density", -1)
    session.cycle("density", -1)
    assert session.pattern.group_params(2).level("density") == "auto:low"
    session.cycle("type")
    assert session.pattern.group_params(2).type == "fill"
    session.genres = ("funk", "jazz")
    session.cycle("genre", -1)
    assert session.pattern.group_params(2).genre == "jazz"
    assert session.pattern.group_params(1).level("density") == "auto:mid"


def test_transport_and_clock(session):
    run(session, "play")
    assert session.playing
    run(session, "stop")
    run(session, "clock follow TR-8S")
    run(session, "clock master")
    run(session, "out none")
    assert session.take_outbox() == [
        Transport("start"),
        Transport("stop"),
        SetClock("external", clock_in="TR-8S"),
        SetClock("internal", send_clock=True),
        SetOutput(None),
    ]


def test_a_generation_lands_only_if_it_is_the_latest(session):
    session.playing = True
    first = session.gen_request(lang.parse("gen 2 genre=funk seed=7"))
    assert first.seed == 7 and first.groups == (2,)
    assert first.pattern.group_params(2).genre == "funk"
    assert session.lane_state[2] == GENERATING
    second = session.gen_request(lang.parse("gen 1"))
    assert session.lane_state == {1: GENERATING, 2: IDLE, 3: IDLE, 4: IDLE}
    result = Pattern().with_group(1, [Event(0, 1, 0, 99)]).with_group(2, [Event(0, 5)])
    assert not session.apply_generated(first, result)  # replaced by the second
    assert session.apply_generated(second, result, "m.gguf")
    assert session.pattern.group_events(1) == (Event(0, 1, 0, 99),)
    assert session.pattern.group_events(2) == ()
    assert session.pattern.group_params(1).seed == second.seed
    assert session.pattern.group_params(1).model == "m.gguf"
    assert session.take_outbox() == [SwapGroup(1, (Event(0, 1, 0, 99),), at="bar")]
    assert session.lane_state[1] == WAITING
    session.on_swapped(3)
    assert session.lane_state[1] == IDLE


def test_the_levels_the_model_drew_show_where_they_are_auto(session):
    run(session, "set 2 density=high")  # pinned: stays high; intensity stays auto
    request = session.gen_request(lang.parse("gen all seed=3"))
    drawn = [replace(p, density="low", intensity="high") for p in request.pattern.params]
    result = replace(Pattern().with_group(1, [Event(0, 1)]), params=tuple(drawn))
    assert session.apply_generated(request, result)
    assert session.pattern.group_params(1).level("density") == "auto:low"
    assert session.pattern.group_params(1).level("intensity") == "auto:high"
    assert session.pattern.group_params(2).level("density") == "high"
    assert session.pattern.group_params(2).level("intensity") == "auto:high"


def test_generation_while_stopped_plays_at_once(session):
    request = session.gen_request(lang.parse("gen all seed=1"))
    assert request.kind == "all" and request.groups == (1, 2, 3, 4)
    session.apply_generated(request, Pattern().with_group(3, [Event(0, 8)]))
    assert {c.at for c in session.take_outbox()} == {"now"}
    assert session.lane_state[3] == IDLE


def test_an_amount_typed_with_mutate_is_for_that_mutation_only(session):
    request = session.gen_request(lang.parse("mutate 3 0.5"))
    assert (request.kind, request.groups, request.amount) == ("mutate", (3,), 0.5)
    assert session.amount == 0.25  # unchanged: `amount` sets it for good
    assert session.gen_request(lang.parse("mutate 3")).amount == 0.25
    run(session, "amount +0.1")
    assert session.amount == 0.35
    assert session.gen_request(lang.parse("mutate")).amount == 0.35


def test_save_and_load_go_through_the_bank_file(session, tmp_path):
    run(session, "kick x...")
    assert run(session, "save A03").startswith("saved A03")
    on_disk = load_bank(tmp_path / "bank.json").bank
    assert on_disk.get("A03") == session.pattern
    run(session, "clear kick")
    session.take_outbox()
    assert run(session, "load A03") == "loaded A03"
    assert len(session.pattern.track_events(1)) == 8
    assert isinstance(session.take_outbox()[0], SetPattern)
    with pytest.raises(CommandError, match="slot A04 is empty"):
        run(session, "load A04")


def test_a_read_only_bank_refuses_to_save(session):
    session.bank_writable = False
    with pytest.raises(CommandError, match="read-only"):
        run(session, "save")


def test_queue_waits_for_the_bar_line(session):
    session.bank = Bank().with_slot("A02", Pattern().with_event(Event(0, 3)))
    session.playing = True
    assert run(session, "queue A02") == "A02 queued for the next bar"
    assert session.take_outbox() == [SetPattern(session.bank.get("A02"), at="bar")]
    assert session.pattern.is_empty()
    assert session.on_swapped(7) == "playing A02"
    assert session.slot == "A02"
    assert session.pattern == session.bank.get("A02")


def test_a_chain_follows_the_bars(session):
    a1 = Pattern().with_event(Event(0, 1))
    a2 = Pattern().with_event(Event(0, 3))
    session.bank = Bank().with_slot("A01", a1).with_slot("A02", a2)
    session.playing = True
    run(session, "chain A01 A02*2")
    assert session.take_outbox() == [SetPattern(a1, at="bar")]
    session.on_swapped(2)
    session.on_state(EngineState(playing=True, bar=2))
    assert session.take_outbox() == []
    session.on_state(EngineState(playing=True, bar=3))
    assert session.take_outbox() == [SetPattern(a2, at="bar")]
    assert session.chain.slot == "A02"
    with pytest.raises(CommandError, match="slot B01 is empty"):
        run(session, "chain A01 B01")


def test_export_writes_a_midi_file_that_reads_back(session, tmp_path):
    run(session, "kick x...x...x...x...x...x...x..x.x..")
    target = tmp_path / "beat.mid"
    run(session, f"export {target}")
    back = midi_to_pattern(target)
    assert [e.step for e in back.track_events(1)] == [0, 4, 8, 12, 16, 20, 24, 27, 29]


def test_slots_move_and_wrap(session):
    assert run(session, "slot prev") == "slot H16 (empty)"
    assert run(session, "slot next") == "slot A01 (empty)"
    run(session, "slot C05")
    assert session.slot == "C05"


def test_the_cursor_wraps_and_selects_its_group(session):
    session.move_cursor(tracks=4)
    assert (session.cursor_track, session.selected) == (5, 2)
    session.move_cursor(tracks=-5, steps=-1)
    assert (session.cursor_track, session.cursor_step, session.selected) == (12, 31, 4)


def test_a_queued_slot_lands_when_start_installs_it_without_a_swap_report(session):
    session.bank = Bank().with_slot("A02", Pattern().with_event(Event(0, 3)))
    session.playing = True
    run(session, "queue A02")
    session.on_state(EngineState(playing=True, pending=False))  # not yet at the engine
    assert session.queued is not None
    session.on_state(EngineState(playing=False, pending=True))  # stopped before the bar
    assert session.on_state(EngineState(playing=True, pending=False)) == ["playing A02"]
    assert session.slot == "A02" and session.queued is None


def test_a_chain_kept_in_the_bank_plays_by_name(session):
    from patterns.bank import Chain

    a1 = Pattern().with_event(Event(0, 1))
    session.bank = Bank().with_slot("A01", a1).with_chain(Chain("verse", (("A01", 2),)))
    session.playing = True
    assert run(session, "chain verse") == "chain A01*2 (A01 queued for the next bar)"
    assert session.take_outbox() == [SetPattern(a1, at="bar")]
    with pytest.raises(CommandError, match="no chain named 'chorus'"):
        run(session, "chain chorus")


def test_a_typed_chain_kept_as_a_name_is_saved_to_the_bank_file(session, tmp_path):
    a1 = Pattern().with_event(Event(0, 1))
    a2 = Pattern().with_event(Event(0, 3))
    session.bank = Bank().with_slot("A01", a1).with_slot("A02", a2)
    session.playing = True
    said = run(session, "chain A01*4 A02*2 as verse")
    assert said == "saved chain 'verse': chain A01*4 A02*2 (A01 queued for the next bar)"
    assert session.take_outbox() == [SetPattern(a1, at="bar")]
    on_disk = load_bank(tmp_path / "bank.json").bank
    assert on_disk.chain("verse").entries == (("A01", 4), ("A02", 2))
    assert on_disk.get("A02") == a2  # the slots went to the file with it
    # saved again under the same name: replaced
    run(session, "chain A02 as verse")
    assert load_bank(tmp_path / "bank.json").bank.chain("verse").entries == (("A02", 1),)


def test_a_chain_of_an_empty_slot_is_not_saved(session, tmp_path):
    session.bank = Bank().with_slot("A01", Pattern().with_event(Event(0, 1)))
    with pytest.raises(CommandError, match="slot B01 is empty"):
        run(session, "chain A01 B01 as verse")
    assert not (tmp_path / "bank.json").exists()
    session.bank_writable = False
    with pytest.raises(CommandError, match="read-only"):
        run(session, "chain A01 as verse")
