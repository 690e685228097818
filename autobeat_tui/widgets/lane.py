"""One group's lane: a header (name, generation parameters, state) and its track rows."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from autobeat_tui.widgets.layout import grid_layout, row_pieces, step_at_column
from patterns.grid import GROUPS
from patterns.pattern import Event, GroupParams

GROUP_COLOURS = {1: "red", 2: "yellow", 3: "green", 4: "cyan"}


@dataclass(frozen=True)
class LaneView:
    """Everything a lane shows: a value, so an unchanged lane is not redrawn."""

    group: int
    events: tuple[Event, ...]
    params: GroupParams
    state: str = ""  # "" | "generating" | "waiting for bar"
    selected: bool = False
    mutes: frozenset[int] = frozenset()
    solos: frozenset[int] = frozenset()
    playhead: int | None = None  # the step sounding, None when stopped
    cursor: tuple[int, int] | None = None  # (track, step) when the cursor is in this lane
    conditions: tuple = ()  # ((step, track), Condition) of this lane's hits


def header_text(view: LaneView, width: int) -> Text:
    group = GROUPS[view.group - 1]
    colour = GROUP_COLOURS[view.group]
    p = view.params
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▶" if view.selected else " ", style=f"bold {colour}")
    text.append(
        f"{group.number} {group.name.upper():<8}",
        style=f"bold {colour}" if view.selected else colour,
    )
    text.append(f"{p.genre} · {p.type} · density {p.level('density', '·')} · "
                f"intensity {p.level('intensity', '·')}")
    if p.seed is not None and width >= 100:
        text.append(f" · seed {p.seed}", style="dim")
    group_tracks = set(group.tracks)
    muted = group_tracks <= view.mutes
    state = view.state or ("muted" if muted else "")
    if state:
        label = {"generating": "generating…", "waiting for bar": "waiting for bar"}.get(
            state, state
        )
        pad = width - text.cell_len - len(label) - 2
        text.append(" " * max(1, pad))
        text.append(
            f"[{label}]" if state != "muted" else f"({label})",
            style="bold reverse" if state == "generating" else "bold",
        )
    text.truncate(width)
    return text


def _runs(pieces: list[tuple[str, str]]) -> Text:
    """One Text from (text, style) pieces, neighbours with the same style joined: far
    fewer segments to draw (most of a row is empty steps)."""
    text = Text(no_wrap=True)
    run, run_style = "", None
    for piece, style in pieces:
        if style == run_style or not piece.strip() and run_style == "":
            run += piece
            continue
        if run:
            text.append(run, style=run_style or "")
        run, run_style = piece, style
    if run:
        text.append(run, style=run_style or "")
    return text


def row_text(view: LaneView, track: int, width: int) -> Text:
    muted = track in view.mutes
    cursor_step = view.cursor[1] if view.cursor is not None and view.cursor[0] == track else None
    return _runs(row_pieces(
        grid_layout(width), track, view.events,
        colour=GROUP_COLOURS[view.group],
        muted=muted,
        soloed=track in view.solos,
        silenced=muted or (bool(view.solos) and track not in view.solos),
        playhead=view.playhead,
        cursor_step=cursor_step,
        conditions={step: c for (step, t), c in view.conditions if t == track},
    ))


def lane_text(view: LaneView, width: int) -> Text:
    lines = [header_text(view, width)]
    lines += [row_text(view, t, width) for t in GROUPS[view.group - 1].tracks]
    return Text("\n", no_wrap=True).join(lines)


class Lane(Widget):
    """One group's lane; the app sets ``view`` and the lane redraws when it changes."""

    DEFAULT_CSS = """
    Lane {
        height: auto;
        width: 1fr;
    }
    """

    view: reactive[LaneView | None] = reactive(None, layout=False)

    def __init__(self, group: int, **kwargs) -> None:
        super().__init__(id=f"lane-{group}", **kwargs)
        self.group = group
        self.styles.height = 1 + len(GROUPS[group - 1].tracks)

    def render(self) -> Text:
        if self.view is None:
            return Text("")
        return lane_text(self.view, self.size.width)

    class Clicked(Message):
        """A click on a cell (track, step 0..31) or on the header (track None)."""

        def __init__(self, group: int, track: int | None, step: int | None) -> None:
            super().__init__()
            self.group = group
            self.track = track
            self.step = step

    def on_click(self, event: events.Click) -> None:
        tracks = GROUPS[self.group - 1].tracks
        if event.y == 0:
            self.post_message(Lane.Clicked(self.group, None, None))
        elif 1 <= event.y <= len(tracks):
            step = step_at_column(grid_layout(self.size.width), event.x)
            self.post_message(Lane.Clicked(self.group, tracks[event.y - 1], step))
