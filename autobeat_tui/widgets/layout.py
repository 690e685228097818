"""How wide the grid's columns are at a given width: shared by the ruler and the lanes.

A row is: the track label, two flag columns (mute M / solo S), then for each beat a
separator (``│`` on a bar line, ``┆`` on a beat) and 4 steps. A step is a velocity
glyph, a timing mark (``‹`` early, ``›`` late) and, when there is room, a space.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns.grid import STEPS, STEPS_PER_BAR, STEPS_PER_BEAT

BEATS = STEPS // STEPS_PER_BEAT
# velocity glyphs, soft to loud: the height of the bar is the velocity
GLYPHS = ("▂", "▄", "▆", "█")
EMPTY = "·"
EARLY, LATE = "‹", "›"
TIMING_MARK_TICKS = 8  # an offset of at least 1/12 step shows as early or late
BAR_LINE, BEAT_LINE = "│", "┆"


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
