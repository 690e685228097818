"""The one drawing of the grid: the app's lanes and ruler, `autobeat generate --grid` and
`autobeat bank show` all draw with it (no textual or rich here: the command line uses it).

A row is: the track label, two flag columns (mute M / solo S), then for each beat a
separator (``│`` on a bar line, ``┆`` on a beat) and 4 steps. A step is a velocity
glyph, a timing mark (``‹`` early, ``›`` late) and, when there is room, a space.
Each row is built as (text, style) pieces; the widgets style them, the command line
joins the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from patterns.grid import STEPS, STEPS_PER_BAR, STEPS_PER_BEAT, TRACKS
from patterns.pattern import Event, Pattern

BEATS = STEPS // STEPS_PER_BEAT
# velocity glyphs, soft to loud: the height of the bar is the velocity
GLYPHS = ("▂", "▄", "▆", "█")
EMPTY = "·"
EARLY, LATE = "‹", "›"
TIMING_MARK_TICKS = 8  # an offset of at least 1/12 step shows as early or late
BAR_LINE, BEAT_LINE = "│", "┆"
PLAYHEAD = "▼"
LEGEND_PARTS = (
    f"{EMPTY} empty step",
    f"{' '.join(GLYPHS)} hits, soft to loud",
    f"{EARLY} early  {LATE} late",
    f"{BAR_LINE} bar  {BEAT_LINE} beat",
    "M muted  S soloed",
    f"{PLAYHEAD} playhead",
)
LEGEND = "   ".join(LEGEND_PARTS)
Pieces = list[tuple[str, str]]  # (text, style)


@dataclass(frozen=True, slots=True)
class GridLayout:
    label: int  # columns for the track label
    cell: int  # columns per step: 1 (glyph only), 2 or 3
    long_names: bool

    @property
    def width(self) -> int:
        return self.label + 2 + BEATS * (1 + STEPS_PER_BEAT * self.cell)

    def step_column(self, step: int) -> int:
        """The column of a step's glyph."""
        beat, within = divmod(step, STEPS_PER_BEAT)
        return self.label + 2 + beat * (1 + STEPS_PER_BEAT * self.cell) + 1 + within * self.cell


def grid_layout(width: int) -> GridLayout:
    for layout in (GridLayout(11, 3, True), GridLayout(11, 2, True), GridLayout(6, 2, False)):
        if layout.width <= width:
            return layout
    return GridLayout(6, 1, False)  # under 80 columns: no timing marks


def step_at_column(layout: GridLayout, x: int) -> int | None:
    """The step whose cell holds column x, or None (label, flags, separators)."""
    for step in range(STEPS):
        column = layout.step_column(step)
        if column <= x < column + layout.cell:
            return step
    return None


def separator(step: int) -> str:
    return BAR_LINE if step % STEPS_PER_BAR == 0 else BEAT_LINE


def glyph(velocity: int) -> str:
    """▂ up to 40, ▄ up to 80, ▆ up to 110, █ above."""
    if velocity <= 40:
        return GLYPHS[0]
    if velocity <= 80:
        return GLYPHS[1]
    if velocity <= 110:
        return GLYPHS[2]
    return GLYPHS[3]


def timing_mark(offset: int) -> str:
    if offset <= -TIMING_MARK_TICKS:
        return EARLY
    if offset >= TIMING_MARK_TICKS:
        return LATE
    return " "


def row_pieces(
    layout: GridLayout,
    track: int,
    events: Iterable[Event],
    *,
    colour: str = "",
    muted: bool = False,
    soloed: bool = False,
    silenced: bool = False,
    playhead: int | None = None,
    cursor_step: int | None = None,
    conditions: Mapping[int, Any] | None = None,
) -> Pieces:
    """One track's row: its label (number and name when wide, else the name), the mute
    and solo flags, and a glyph and timing mark per step; a conditional trig's glyph
    (``conditions``: step -> Condition) where the timing mark goes."""
    info = TRACKS[track - 1]
    cells: dict[int, Event] = {e.step: e for e in events if e.track == track}
    # wide: the number and the name commands take (`mute 5`, `mute chh`); narrow: the name
    name = f"{info.number:>2} {info.name}" if layout.long_names else info.name
    label_style = "bold reverse" if cursor_step is not None else ("dim" if silenced else "")
    gap = " " * (layout.cell - 2)
    pieces: Pieces = [
        (f"{name:<{layout.label - 1}}"[: layout.label - 1], label_style),
        (" ", ""),
        ("M" if muted else " ", "bold red"),
        ("S" if soloed else " ", "bold green"),
    ]
    for step in range(STEPS):
        if step % 4 == 0:
            pieces.append((separator(step), "dim" if step % 16 else ""))
        event = cells.get(step)
        if event is None:
            ch, mark, style, mark_style = EMPTY, " ", "dim", "dim"
        else:
            ch, mark = glyph(event.velocity), timing_mark(event.offset)
            style = "dim" if silenced else colour
            mark_style = "bold" if mark != " " else style
            cond = (conditions or {}).get(step)
            if cond is not None:  # a conditional trig: its glyph where the timing mark goes
                if layout.cell > 1:
                    mark, mark_style = cond.glyph, "bold magenta"
                else:
                    ch, style = cond.glyph, "bold magenta"
        if step == playhead:
            style += " underline on blue"
        if step == cursor_step:
            style = "bold reverse"
        pieces.append((ch, style))
        if layout.cell > 1:
            pieces.append((mark + gap, mark_style))
    return pieces


def ruler_pieces(layout: GridLayout, playhead: int | None = None) -> Pieces:
    """The line above the rows: the position (or "stop"), beat numbers, bar lines."""
    if playhead is None:
        where = "stop"
    else:
        bar, rest = divmod(playhead, STEPS_PER_BAR)
        beat, step = divmod(rest, STEPS_PER_BEAT)
        where = f"{bar + 1}.{beat + 1}.{step + 1}"
    pieces: Pieces = [(f"{where:<{layout.label + 2}}"[: layout.label + 2], "bold")]
    for s in range(STEPS):
        if s % STEPS_PER_BEAT == 0:
            pieces.append((separator(s), "dim"))
        if s == playhead:
            pieces.append((PLAYHEAD, "bold"))
        elif s % STEPS_PER_BEAT == 0:
            number = str(s // STEPS_PER_BEAT % 4 + 1)
            pieces.append((number, "bold" if s % STEPS_PER_BAR == 0 else "dim"))
        else:
            pieces.append((" ", ""))
        pieces.append((" " * (layout.cell - 1), ""))
    return pieces


def grid_lines(pattern: Pattern, width: int = 80, legend: bool = True) -> list[str]:
    """The pattern as plain text lines, drawn as the app draws it (for the command line):
    the ruler, the 12 tracks, and the legend."""
    layout = grid_layout(width)
    rows = [ruler_pieces(layout)]
    rows += [row_pieces(layout, t.number, pattern.events) for t in TRACKS]
    lines = ["".join(text for text, _ in row).rstrip() for row in rows]
    lines[0] = " " * (layout.label + 2) + lines[0][layout.label + 2 :]
    if legend:  # the legend's parts, as many to a line as fit
        legend_lines = [""]
        for part in LEGEND_PARTS:
            if legend_lines[-1] and len(legend_lines[-1]) + 3 + len(part) > width:
                legend_lines.append("")
            legend_lines[-1] += ("   " if legend_lines[-1] else "") + part
        lines += legend_lines
    return lines
