"""The hotkeys. Most run a command line (``cmd('gen')``), so each key is also a command;
the cursor keys act on the cell or track under the cursor (``hit``, ``clear``, ``vel``,
``mute``, ``solo`` name it instead)."""

from __future__ import annotations

from textual.binding import Binding

HOTKEYS: list[Binding] = [
    Binding("question_mark", "help", "help", key_display="?"),
    Binding("colon", "command_line", "command line", key_display=":"),
    *[Binding(str(g), f"cmd('group {g}')", f"select group {g}", show=False) for g in range(1, 5)],
    Binding("g", "cmd('gen')", "generate the selected group"),
    Binding("G", "cmd('gen all')", "generate all four groups"),
    Binding("r", "cmd('mutate')", "mutate the selected group"),
    Binding("less_than_sign", "cmd('amount -0.05')", "mutate amount down", key_display="<"),
    Binding("greater_than_sign", "cmd('amount +0.05')", "mutate amount up", key_display=">"),
    Binding("u", "cmd('undo')", "undo"),
    Binding("U,ctrl+r", "cmd('redo')", "redo", key_display="U ^r"),
    Binding("e", "cmd('set genre=next')", "next genre (the whole beat)"),
    Binding("E", "cmd('set genre=prev')", "previous genre (the whole beat)"),
    Binding("t", "cmd('set type=next')", "type: beat / fill (the whole beat)"),
    Binding("d", "cmd('set density=next')", "next density (the selected group)"),
    Binding("D", "cmd('set density=prev')", "previous density (the selected group)"),
    Binding("i", "cmd('set intensity=next')", "next intensity (the selected group)"),
    Binding("I", "cmd('set intensity=prev')", "previous intensity (the selected group)"),
    Binding("space", "play_stop", "play / stop", key_display="space"),
    Binding("minus", "cmd('bpm -1')", "tempo down 1 BPM", key_display="-"),
    Binding("plus,equals_sign", "cmd('bpm +1')", "tempo up 1 BPM", key_display="+ ="),
    Binding("comma", "cmd('swing -1')", "swing down", key_display=","),
    Binding("full_stop", "cmd('swing +1')", "swing up", key_display="."),
    Binding("f", "cmd('fill')", "fill: the model writes one, it plays in the next bar"),
    Binding("c", "cond_cursor(1)", "next condition of the hit under the cursor"),
    Binding("C", "cond_cursor(-1)", "previous condition of the hit under the cursor"),
    Binding("m", "mute_cursor", "mute the track under the cursor"),
    Binding("s", "solo_cursor", "solo the track under the cursor"),
    Binding("up", "cursor(-1, 0)", "cursor up", key_display="↑", show=False),
    Binding("down", "cursor(1, 0)", "cursor down", key_display="↓", show=False),
    Binding("left", "cursor(0, -1)", "cursor left", key_display="←", show=False),
    Binding("right", "cursor(0, 1)", "cursor right", key_display="→", show=False),
    Binding("home", "cursor(0, -32)", "cursor to step 1", show=False),
    # priority: the screen's own tab (focus next) would take it first
    Binding("tab", "cursor_group(1)", "cursor to the next lane", show=False, priority=True),
    Binding(
        "shift+tab", "cursor_group(-1)", "cursor to the previous lane", show=False, priority=True
    ),
    Binding("x,enter", "toggle_hit", "set / clear the hit under the cursor", key_display="x ⏎"),
    Binding("backspace,delete", "clear_hit", "clear the hit under the cursor", key_display="⌫"),
    Binding("a", "velocity(10)", "louder hit under the cursor"),
    Binding("z", "velocity(-10)", "softer hit under the cursor"),
    Binding("left_square_bracket", "cmd('slot prev')", "previous slot", key_display="["),
    Binding("right_square_bracket", "cmd('slot next')", "next slot", key_display="]"),
    Binding("w", "cmd('save')", "save to the slot"),
    Binding("l", "cmd('load')", "recall the slot (now)"),
    Binding("b", "cmd('queue')", "queue the slot for the next bar"),
    Binding("ctrl+q", "quit", "quit", key_display="^q"),
]


def help_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for the help screen; group keys folded into one row."""
    rows: list[tuple[str, str]] = []
    for b in HOTKEYS:
        if b.key in ("1", "2", "3", "4"):
            if b.key == "1":
                rows.append(("1 2 3 4", "select group 1..4"))
            continue
        if b.key in ("up", "down", "left"):
            continue
        if b.key == "right":
            rows.append(("← ↓ ↑ →", "move the cursor over the grid"))
            continue
        rows.append((b.key_display or b.key, b.description))
    return rows
