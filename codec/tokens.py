"""One group of a pattern <-> its token sequence, in the seed's text form::

    genre:funk type:beat density:high intensity:mid group:1
    step:0 track:1 offset:0 velocity:95 step:4 track:3 offset:2 velocity:83 ... end

Grammar: the five header tokens in that order; then events of four tokens
(step, track, offset, velocity) in time order ((step, track) strictly rising),
each track inside the header's group; then ``end``.

``decode(..., strict=True)`` raises CodecError naming the position and the token
of the first violation. ``strict=False`` (for model output) drops broken events,
keeps the rest and reports each drop in ``Decoded.dropped``.

This is the one token grammar: the bank file stores each group as this text and
reads it back with ``decode``. Text in the canonical form (single spaces, as
``encode_text`` and the bank file write it) takes a fast path, one regular
expression for the whole sequence, several times faster than reading token by
token; anything else (or anything the fast path doubts) is read token by token,
which is also where every error message comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, mul

from codec.errors import CodecError
from codec.vocab import BOS, END, quantize_velocity
from patterns.grid import GROUPS, MAX_OFFSET, MIN_OFFSET, STEPS, TRACKS
from patterns.pattern import LEVELS, TYPES, Event, GroupParams, Pattern, PatternError

HEADER_KEYS = ("genre", "type", "density", "intensity", "group")
EVENT_KEYS = ("step", "track", "offset", "velocity")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded group sequence."""

    group: int
    params: GroupParams
    events: tuple[Event, ...]
    dropped: tuple[str, ...] = ()  # lenient mode: one line per dropped piece
    ended: bool = True  # False when the sequence stopped before `end`

    def apply(self, pattern: Pattern) -> Pattern:
        """The pattern with this group (events and header) replaced."""
        return pattern.with_group(self.group, self.events, self.params)


def header_tokens(params: GroupParams, group: int) -> list[str]:
    return [
        f"genre:{params.genre}",
        f"type:{params.type}",
        f"density:{params.density}",
        f"intensity:{params.intensity}",
        f"group:{group}",
    ]


def event_tokens(event: Event) -> list[str]:
    return [
        f"step:{event.step}",
        f"track:{event.track}",
        f"offset:{event.offset}",
        f"velocity:{quantize_velocity(event.velocity)}",
    ]


def encode(pattern: Pattern, group: int, params: GroupParams | None = None) -> list[str]:
    """The token sequence of one group (velocities quantized to the codec's bins).

    params overrides the header (e.g. measured density/intensity for a corpus).
    """
    if not 1 <= group <= len(GROUPS):
        raise CodecError(f"group must be in 1..{len(GROUPS)}, got {group}")
    tokens = header_tokens(params or pattern.group_params(group), group)
    for event in pattern.group_events(group):
        tokens += event_tokens(event)
    tokens.append(END)
    return tokens


def encode_text(pattern: Pattern, group: int, params: GroupParams | None = None) -> str:
    return " ".join(encode(pattern, group, params))


def split_tokens(tokens: str | Sequence[str]) -> list[str]:
    if isinstance(tokens, str):
        return tokens.split()
    return list(tokens)


def _kv(token: str, key: str, position: int) -> str:
    prefix = key + ":"
    if not isinstance(token, str) or not token.startswith(prefix):
        raise CodecError(f"expected {key}:..., got {token!r}", position, token)
    return token[len(prefix) :]


def _int_value(token: str, key: str, low: int, high: int, position: int) -> int:
    raw = _kv(token, key, position)
    try:
        value = int(raw)
    except ValueError:
        raise CodecError(f"{key} must be an integer, got {raw!r}", position, token) from None
    if raw != str(value):
        raise CodecError(f"{key} must be a plain integer, got {raw!r}", position, token)
    if not low <= value <= high:
        raise CodecError(f"{key} must be in {low}..{high}, got {value}", position, token)
    return value


def _header(tokens: list[str], start: int) -> tuple[GroupParams, int]:
    values: list[str] = []
    for k, key in enumerate(HEADER_KEYS):
        i = start + k
        if i >= len(tokens):
            raise CodecError(f"sequence ended before {key}:... of the header", i)
        values.append(_kv(tokens[i], key, i))
    genre, kind, density, intensity, _ = values
    for k, (name, value, allowed) in enumerate(
        (("type", kind, TYPES), ("density", density, LEVELS), ("intensity", intensity, LEVELS)), 1
    ):
        if value not in allowed:
            raise CodecError(
                f"{name} must be one of {', '.join(allowed)}", start + k, tokens[start + k]
            )
    group = _int_value(tokens[start + 4], "group", 1, len(GROUPS), start + 4)
    try:
        params = GroupParams(genre=genre, type=kind, density=density, intensity=intensity)
    except PatternError as exc:
        raise CodecError(str(exc), start, tokens[start]) from None
    return params, group


def _event(tokens: list[str], i: int, group: int) -> Event:
    """Read one event starting at i (raises CodecError on any violation)."""
    if i + 4 > len(tokens):
        raise CodecError("incomplete event at the end of the sequence", i, tokens[i])
    step = _int_value(tokens[i], "step", 0, STEPS - 1, i)
    track = _int_value(tokens[i + 1], "track", 1, len(TRACKS), i + 1)
    if TRACKS[track - 1].group != group:
        allowed = GROUPS[group - 1].tracks
        raise CodecError(
            f"track {track} is not in group {group} (tracks {allowed[0]}..{allowed[-1]})",
            i + 1,
            tokens[i + 1],
        )
    offset = _int_value(tokens[i + 2], "offset", MIN_OFFSET, MAX_OFFSET, i + 2)
    velocity = _int_value(tokens[i + 3], "velocity", 1, 127, i + 3)
    return Event(step=step, track=track, offset=offset, velocity=velocity)


def _alternatives(values: Iterable[str]) -> str:
    return "|".join(re.escape(v) for v in values)


# The grammar of a canonical sequence, from the same constants as the reader below:
# plain integers only (no sign on 0, no leading zeros), as _int_value demands.
_CANONICAL = re.compile(
    rf"(?:{re.escape(BOS)} )?genre:([^\s:]+) type:({_alternatives(TYPES)}) "
    rf"density:({_alternatives(LEVELS)}) intensity:({_alternatives(LEVELS)}) "
    rf"group:([1-{len(GROUPS)}])"
    r"((?: step:(?:0|[1-9][0-9]?) track:(?:[1-9]|1[0-9]) offset:(?:0|-?[1-9][0-9]?)"
    r" velocity:[1-9][0-9]{0,2})*)"
    rf" {re.escape(END)}"
)
_VALUE = re.compile(r":(-?[0-9]+)")  # each event value (twice as fast as matching numbers)
_GROUP_TRACKS = {g.number: frozenset(g.tracks) for g in GROUPS}


def _decode_canonical(text: str) -> Decoded | None:
    """The sequence if ``text`` is canonical and valid; None sends it to the token reader
    (which then either reads it the same or says precisely what is wrong)."""
    m = _CANONICAL.fullmatch(text)
    if m is None:
        return None
    genre, kind, density, intensity, group_text, body = m.groups()
    group = int(group_text)
    numbers = list(map(int, _VALUE.findall(body)))
    steps, tracks = numbers[0::4], numbers[1::4]
    cells = list(map(add, map(mul, steps, repeat(16)), tracks))  # step * 16 + track
    if cells != sorted(set(cells)) or not _GROUP_TRACKS[group].issuperset(tracks):
        return None  # events out of (step, track) order, or a track outside the group
    try:  # Event checks each value's range
        events = tuple(map(Event, steps, tracks, numbers[2::4], numbers[3::4]))
        params = GroupParams(genre=genre, type=kind, density=density, intensity=intensity)
    except PatternError:
        return None
    return Decoded(group, params, events)


def decode(tokens: str | Sequence[str], strict: bool = True) -> Decoded:
    """Decode one group sequence. See the module docstring for the grammar."""
    if isinstance(tokens, str):
        fast = _decode_canonical(tokens)
        if fast is not None:
            return fast
    toks = split_tokens(tokens)
    start = 1 if toks and toks[0] == BOS else 0
    params, group = _header(toks, start)  # a broken header is an error in both modes
    events: list[Event] = []
    dropped: list[str] = []
    i = start + len(HEADER_KEYS)
    ended = False
    while i < len(toks):
        tok = toks[i]
        if tok == END:
            ended = True
            if i != len(toks) - 1:
                if strict:
                    raise CodecError("tokens after end", i + 1, toks[i + 1])
                dropped.append(f"{len(toks) - i - 1} tokens after end")
            break
        try:
            event = _event(toks, i, group)
            if events and (event.step, event.track) <= (events[-1].step, events[-1].track):
                prev = events[-1]
                raise CodecError(
                    f"event step {event.step} track {event.track} is not after "
                    f"step {prev.step} track {prev.track}",
                    i,
                    tok,
                )
        except CodecError as exc:
            if strict:
                raise
            dropped.append(str(exc))
            # resynchronise on the next step token (or end)
            i += 1
            while i < len(toks) and toks[i] != END and not str(toks[i]).startswith("step:"):
                i += 1
            continue
        events.append(event)
        i += 4
    if not ended:
        if strict:
            raise CodecError("sequence has no end token", len(toks))
        dropped.append("sequence has no end token")
    return Decoded(group, params, tuple(events), tuple(dropped), ended)


def decode_many(lines: Iterable[str], strict: bool = True) -> list[Decoded]:
    return [decode(line, strict=strict) for line in lines if line.strip()]
