"""What the widgets draw, as plain text: every state has a mark that needs no colour."""

from __future__ import annotations

from autobeat_tui.widgets.key_bar import key_bar_text
from autobeat_tui.widgets.lane import LaneView, lane_text
from autobeat_tui.widgets.layout import grid_layout
from autobeat_tui.widgets.ruler import ruler_text
from autobeat_tui.widgets.slot_strip import SlotView, slot_text
from autobeat_tui.widgets.status_line import StatusView, status_text
from patterns.pattern import Event, GroupParams

EVENTS = (Event(0, 1, 0, 127), Event(4, 1, -20, 30), Event(8, 3, 20, 70), Event(12, 3, 0, 100))


def _view(**kw) -> LaneView:
    return LaneView(1, EVENTS, GroupParams(genre="funk", density="high"), **kw)


def test_a_lane_shows_velocity_timing_flags_and_state_without_colour():
    lines = lane_text(
        _view(mutes=frozenset({2}), solos=frozenset({3}), state="generating"), 80
    ).plain.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(" 1 DRUMS   funk · beat · density high · intensity mid")
    assert lines[0].endswith("[generating…]")
    kick, rim, snare = lines[1], lines[2], lines[3]
    assert kick.startswith("kick    │█ · · · ┆▂‹· · · ┆")
    assert rim.startswith("rim   M │")
    assert snare.startswith("snare  S│· · · · ┆· · · · ┆▄›· · · ┆▆ · · · │")


def test_every_line_fits_its_width():
    for width in (50, 80, 100, 120, 200):
        layout = grid_layout(width)
        assert layout.width <= width
        for line in lane_text(_view(state="waiting for bar", selected=True), width).plain.split(
            "\n"
        ):
            assert len(line) <= width
        assert len(ruler_text(31, width).plain) <= width
        assert len(key_bar_text(width).plain) <= width
        view = StatusView(
            bank="a-long-bank-name.json",
            output="Some Very Long MIDI Port Name 1",
            model="autobeat-gpt2-small-groove.gguf",
            queued="B12",
            playing=True,
        )
        status = status_text(view, width).plain
        assert len(status) <= width
        if width >= 80:
            assert "model autobeat-" in status  # names shortened, no part cut off
        strip = slot_text(SlotView(chain="A01*4 A02*2"), width).plain.split("\n")
        assert max(len(line) for line in strip) <= width


def test_the_slot_strip_keeps_its_spaces_and_a_narrow_one_gives_the_chain_a_line():
    view = SlotView(slot="A02", filled=frozenset({"A01", "A03"}), chain="A01*4 A03*2")
    narrow = slot_text(view, 80).plain.split("\n")
    assert narrow == [
        "bank A ●01 ○02 ●03 ○04 ○05 ○06 ○07 ○08 ○09 ○10 ○11 ○12 ○13 ○14 ○15 ○16 mut 0.25",
        "chain A01*4 A03*2",
    ]
    wide = slot_text(view, 120).plain
    assert wide.endswith("○16 mut 0.25 · undo 0/redo 0 · chain A01*4 A03*2")
    assert "\n" not in wide


def test_the_ruler_marks_the_playhead_and_the_position():
    text = ruler_text(5, 80).plain
    assert text.startswith("1.2.2")
    assert text.index("▼") == grid_layout(80).step_column(5)
    assert ruler_text(None, 80).plain.startswith("stop")


def test_the_status_line_says_what_is_wrong():
    text = status_text(
        StatusView(
            output="none",
            model="missing",
            model_error=True,
            clock="follow",
            clock_lost=True,
            engine_error="stopped",
        ),
        80,
    ).plain
    assert "clk ext LOST" in text and "engine stopped" in text
    assert "model missing" in text


def test_the_key_bar_always_ends_with_quit_and_starts_with_help():
    for width in (40, 80, 120):
        text = key_bar_text(width).plain
        assert text.startswith("? help") and text.endswith("^q quit")


def test_the_status_line_shows_link_and_its_peers():
    assert "clk link 2p" in status_text(StatusView(clock="link", peers=2), 80).plain
    assert "clock link 1 peer " in status_text(StatusView(clock="link", peers=1), 200).plain
