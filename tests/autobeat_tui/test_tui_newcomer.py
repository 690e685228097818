"""What a newcomer meets in the session: one genre per beat, slot names from the genre,
track names and numbers, a read-only bank (issue 16)."""

from __future__ import annotations

import random

import pytest

from autobeat_tui.live import language as lang
from autobeat_tui.live.session import CommandError, Session
from autobeat_tui.widgets.status_line import StatusLine
from engine.messages import SetMute, SetTempo
from patterns.bank import Bank, load_bank, save_bank, starter_bank
from patterns.pattern import Event, Pattern
from tests.autobeat_tui.conftest import make_app, until


def run(session: Session, line: str):
    return session.run(lang.parse(line, session.genres))


@pytest.fixture
def session(tmp_path):
    return Session(bank=Bank(), bank_path=tmp_path / "bank.json", save_bank=save_bank,
                   rng=random.Random(5))


def genres(session) -> list[str]:
    return [p.genre for p in session.pattern.params]


def test_genre_and_type_set_the_whole_beat_unless_a_group_is_named(session):
    assert run(session, "set genre=funk") == "all groups: genre=funk"
    assert genres(session) == ["funk"] * 4
    assert run(session, "set 2 genre=jazz") == "group 2: genre=jazz"
    assert genres(session) == ["funk", "jazz", "funk", "funk"]
    assert run(session, "set all genre=funk type=fill") == "all groups: genre=funk type=fill"
    assert [(p.genre, p.type) for p in session.pattern.params] == [("funk", "fill")] * 4
    said = run(session, "set genre=next density=high")
    assert said == "all groups: genre=gospel; group 1: density=high"
    assert genres(session) == ["gospel"] * 4
    levels = [p.level("density") for p in session.pattern.params]
    assert levels == ["high", "auto:mid", "auto:mid", "auto:mid"]  # pinned: group 1 only


def test_gen_all_after_a_genre_key_asks_for_one_genre(session):
    run(session, "group 3")
    run(session, "set genre=next")  # the `e` key
    request = session.gen_request(lang.parse("gen all"))
    assert {p.genre for p in request.pattern.params} == {"soul"}
    request = session.gen_request(lang.parse("gen genre=funk"))  # the selected group only
    assert request.groups == (3,) and {p.genre for p in request.pattern.params} == {"funk"}


def test_a_saved_slot_is_named_after_the_beats_genre(session, tmp_path):
    session.bank = starter_bank()  # A01 "Rock 1"
    session.history.commit(session.bank.get("A01"))
    run(session, "set genre=funk")
    run(session, "save A02")
    run(session, "save A03")
    run(session, "set genre=rock")
    run(session, "save A04")
    names = {s: p.name for s, p in load_bank(tmp_path / "bank.json").bank.slots.items()}
    assert names == {"A01": "Rock 1", "A02": "Funk 1", "A03": "Funk 2", "A04": "Rock 2"}
    session.history.commit(session.pattern.with_name("my groove"))  # a name the user gave
    run(session, "save A05")
    assert load_bank(tmp_path / "bank.json").bank.get("A05").name == "my groove"


def test_tracks_by_name_or_number_and_the_answer_names_both(session):
    assert run(session, "mute chh") == "track 5 chh: mute on"
    assert run(session, "mute 5") == "track 5 chh: mute off"
    assert run(session, "solo kick") == "track 1 kick: solo on"
    assert session.take_outbox()[:2] == [SetMute(5, True), SetMute(5, False)]
    run(session, "hit snare 5")
    run(session, "vel sd 5 60")
    assert session.pattern.at(4, 3) == Event(4, 3, 0, 60)
    with pytest.raises(CommandError, match="unknown track 'cowbell': use 1..12 or one of kick"):
        run(session, "mute cowbell")


@pytest.mark.parametrize(("size", "mark"), [((80, 24), "│ RO │"), ((120, 40), "│ read-only │")])
async def test_a_read_only_bank_is_marked_in_the_status_line_for_good(tmp_path, size, mark):
    warning = f"{tmp_path}/bank.json: the bank is in use by process 4242; opened read-only"
    app, _, _ = make_app(tmp_path, startup_errors=[warning])
    app.session.bank_writable = False
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.engine_ready and app.model is not None)
        await pilot.press("colon", *"save", "enter")
        await pilot.pause()
        status = str(app.query_one(StatusLine).render())
        assert mark in status
        assert app.messages[0] == f"! {warning}"  # the toast's text, whole
        assert "read-only" in app.messages[-1]


def test_the_tempo_is_global_so_a_chain_does_not_jump_between_slots(tmp_path):
    bank = (Bank().with_slot("A01", Pattern(tempo=110.0).with_event(Event(0, 1)))
            .with_slot("A02", Pattern(tempo=124.0).with_event(Event(0, 3))))
    session = Session(bank.get("A01"), bank=bank, bank_path=tmp_path / "bank.json",
                      save_bank=save_bank)
    assert session.tempo == 110.0  # a bank from before the global tempo: the first slot's
    session.playing = True
    run(session, "chain A01 A02")
    run(session, "queue A02")
    assert not [c for c in session.take_outbox() if isinstance(c, SetTempo)]
    run(session, "load A02")
    assert session.pattern.tempo == 110.0
    assert run(session, "bpm 100") == "tempo 100 BPM"
    run(session, "load A01")
    assert session.pattern.tempo == 100.0


def test_a_slot_can_keep_its_own_tempo_and_the_file_keeps_it(tmp_path):
    session = Session(bank=Bank(), bank_path=tmp_path / "bank.json", save_bank=save_bank)
    run(session, "bpm 96")
    run(session, "kick x...")
    run(session, "save A01")
    assert run(session, "bpm own") == "this slot keeps its own tempo, 96 BPM (saved with it)"
    assert run(session, "bpm 140") == "tempo 140 BPM (this slot's own)"
    assert session.tempo == 96.0  # the global tempo stays
    run(session, "save A02")
    on_disk = load_bank(tmp_path / "bank.json").bank
    assert on_disk.tempo == 96.0
    assert (on_disk.get("A02").own_tempo, on_disk.get("A02").tempo) == (True, 140.0)
    assert on_disk.get("A01").own_tempo is False
    again = Session(on_disk.get("A01"), bank=on_disk, bank_path=tmp_path / "bank.json",
                    save_bank=save_bank)
    run(again, "load A02")
    assert again.pattern.tempo == 140.0
    run(again, "load A01")
    assert again.pattern.tempo == 96.0
    assert run(again, "bpm 90") == "tempo 90 BPM"
    run(again, "load A02")
    assert run(again, "bpm global") == "this slot plays at the global tempo, 90 BPM"
    assert again.pattern.tempo == 90.0 and again.take_outbox()[-1] == SetTempo(90.0)
