"""One drawing of the grid: `autobeat bank show` and `autobeat generate --grid` print the
rows the app's lanes draw, with the help screen's legend."""

from __future__ import annotations

from autobeat_tui.cli import main
from autobeat_tui.widgets.lane import LaneView, row_text
from autobeat_tui.widgets.layout import LEGEND_PARTS, grid_lines
from autobeat_tui.widgets.ruler import ruler_text
from patterns.bank import Bank, save_bank
from patterns.grid import TRACKS
from patterns.pattern import Event, Pattern

BEAT = Pattern((Event(0, 1, 0, 127), Event(4, 3, 12, 90), Event(6, 5, -12, 30), Event(16, 12)))


def test_the_command_lines_grid_is_the_apps_rows(monkeypatch):
    for width in (80, 120):
        lines = grid_lines(BEAT, width)
        for track in TRACKS:
            view = LaneView(track.group, BEAT.group_events(track.group), BEAT.params[0])
            assert lines[track.number] == row_text(view, track.number, width).plain.rstrip()
        assert lines[0].strip() == ruler_text(None, width).plain[4:].strip()  # no "stop"
        legend = " ".join(lines[13:])
        assert all(part in legend for part in LEGEND_PARTS)
        assert max(len(line) for line in lines) <= width
    assert grid_lines(BEAT, 80)[1].startswith("kick    │█ · · · ┆· ")  # velocity 127
    assert grid_lines(BEAT, 80)[5].startswith("chh     │· · · · ┆· · ▂‹")  # soft, early
    assert grid_lines(BEAT, 120)[3].startswith(" 3 snare     │·  ·  ·  ·  ┆▆› ")  # late


def test_bank_show_prints_that_grid(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    save_bank(Bank().with_slot("A01", BEAT), tmp_path / "bank.json")
    assert main(["bank", "show", "A01", "--bank", str(tmp_path / "bank.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    grid = grid_lines(BEAT, 80)
    assert out[-len(grid):] == grid


def test_generate_grid_prints_that_grid_of_what_it_generated(capsys, monkeypatch):
    from codec.tokens import decode

    monkeypatch.setenv("COLUMNS", "120")
    assert main(["generate", "--group", "all", "--seed", "3", "--grid", "--threads", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    pattern = Pattern()
    tokens = [n for n, line in enumerate(out) if line.startswith("genre:")]
    assert len(tokens) == 4  # the four token lines (each after a '# group N: ...' line)
    for n in tokens:
        decoded = decode(out[n])
        pattern = pattern.with_group(decoded.group, decoded.events, decoded.params)
    assert out[tokens[-1] + 1:] == grid_lines(pattern, 120)
    assert pattern.events  # a beat, drawn
