"""Tab completion for the command line: what may replace the line's last word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from autobeat_tui.live.language import (
    ALIASES,
    CLOCK_MODES,
    DEFAULT_GENRES,
    GROUP_NAMES,
    PARAM_KEYS,
    PARSERS,
)
from patterns.bank import SLOT_NAMES
from patterns.conditions import CYCLE
from patterns.grid import GROUPS, TRACKS, track_by_name
from patterns.pattern import LEVEL_CHOICES, TYPES


@dataclass(frozen=True)
class Completion:
    """What tab may put in place of the line's last word (from `start` on)."""

    start: int
    candidates: tuple[str, ...]

    def common_prefix(self) -> str:
        if not self.candidates:
            return ""
        first, last = min(self.candidates), max(self.candidates)
        n = 0
        while n < min(len(first), len(last)) and first[n] == last[n]:
            n += 1
        return first[:n]


@dataclass(frozen=True)
class CompletionContext:
    """What the app knows that completion offers: genres, ports, filled slots, literals."""

    genres: Sequence[str] = DEFAULT_GENRES
    filled_slots: Sequence[str] = ()
    outputs: Sequence[str] = ()
    inputs: Sequence[str] = ()
    literals: dict[int, str] = field(default_factory=dict)  # track -> its literal now


TRACK_WORDS = tuple(t.name for t in TRACKS)
GROUP_WORDS = tuple(str(g.number) for g in GROUPS) + tuple(GROUP_NAMES)


def _values_for(key: str, ctx: CompletionContext, cycle: bool) -> tuple[str, ...]:
    extra = ("next", "prev") if cycle else ()
    return {
        "genre": tuple(ctx.genres) + extra,
        "type": TYPES + extra,
        "density": LEVEL_CHOICES + extra,
        "intensity": LEVEL_CHOICES + extra,
    }.get(key, ())


def _candidates(words: list[str], ctx: CompletionContext) -> tuple[str, ...]:
    """Candidates for the word after `words` (the ones already typed)."""
    if not words:
        return tuple(PARSERS) + TRACK_WORDS
    head = ALIASES.get(words[0].lower(), words[0].lower())
    n = len(words)  # index of the word being completed
    keys_gen = tuple(f"{k}=" for k in (*PARAM_KEYS, "seed", "temp"))
    keys_set = tuple(f"{k}=" for k in PARAM_KEYS)
    if head == "gen":
        return (("all",) + GROUP_WORDS if n == 1 else ()) + keys_gen
    if head == "set":
        return (GROUP_WORDS if n == 1 else ()) + keys_set
    if head == "mutate":
        return GROUP_WORDS + ("seed=",) if n == 1 else ("0.1", "0.25", "0.5", "seed=")
    if head in ("mute", "solo"):
        return TRACK_WORDS + ("all",) if n == 1 else ("on", "off") if n == 2 else ()
    if head in ("save", "slot") and n == 1:
        extra = ("next", "prev") if head == "slot" else ()
        return extra + SLOT_NAMES
    if head in ("load", "queue", "export") and n == 1:
        return tuple(ctx.filled_slots) or SLOT_NAMES
    if head == "chain":
        return tuple(f"{s}*" for s in (ctx.filled_slots or SLOT_NAMES)) + (
            ("off",) if n == 1 else ()
        )
    if head == "clock":
        if n == 1:
            return CLOCK_MODES
        return tuple(ctx.inputs) if words[1] == "follow" else ("master",) if words[1] == "link" \
            else ()
    if head == "out" and n == 1:
        return tuple(ctx.outputs) + ("audio", "none")
    if head == "latency" and n == 1:
        return tuple(ctx.outputs)
    if head in ("hit", "vel") and n == 1:
        return TRACK_WORDS
    if head == "clear" and n == 1:
        return TRACK_WORDS + tuple(GROUP_NAMES)
    if head == "group" and n == 1:
        return GROUP_WORDS
    if head == "help" and n == 1:
        return tuple(PARSERS)
    if head == "cond":
        if n == 1:
            return TRACK_WORDS + ("seed",)
        return (*CYCLE, "off", "next") if n == 3 and words[1] != "seed" else ()
    if head == "phrase" and n == 1:
        return ("4", "8", "16", "off")
    if head == "vary" and n == 1:
        return ("0.05", "0.1", "0.2", "off")
    if head == "crash" and n == 1:
        literal = ctx.literals.get(track_by_name("crash"))
        return ("on", "off") + ((literal,) if literal else ())
    try:
        track = track_by_name(head)
    except ValueError:
        return ()
    literal = ctx.literals.get(track)
    return (literal,) if literal and n == 1 else ()


def complete(line: str, ctx: CompletionContext | None = None) -> Completion:
    """What may replace the last (possibly empty) word of `line`."""
    ctx = ctx or CompletionContext()
    start = len(line) - len(line.split(" ")[-1])
    words = line[:start].split()
    word = line[start:]
    if "=" in word and words:
        key, _, value = word.partition("=")
        head = ALIASES.get(words[0].lower(), words[0].lower())
        values = _values_for(key.lower(), ctx, cycle=head == "set")
        start += len(key) + 1
        return Completion(start, tuple(v for v in values if v.startswith(value)))
    options = _candidates(words, ctx)
    lowered = word.lower()
    upper = word.upper()
    return Completion(
        start,
        tuple(
            o for o in options if o.startswith(lowered) or o.startswith(upper) or o.startswith(word)
        ),
    )
