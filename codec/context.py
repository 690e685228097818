"""The model's sequence format: one group, written in the context of the others.

A training example and a runtime prompt share one layout::

    <bos> ctx step:0 track:1 step:0 track:5 step:2 track:5 ... /ctx
    genre:funk type:beat density:high intensity:mid group:2
    step:0 track:5 offset:-3 velocity:87 ... end

- ``ctx ... /ctx``: the events of the *other* groups of the pattern, as (step,
  track) pairs in time order. Timing and velocity are left out on purpose: where
  the kick and snare sit is what the new group must fit, and the shorter prefix
  keeps a generation fast. The context may hold any subset of the other groups
  (training drops some at random; a full beat generated from scratch has an
  empty one), so ``ctx /ctx`` is a valid context.
- then the group's own sequence exactly as ``codec.tokens.encode`` writes it.

The prompt a runner feeds is everything up to and including the ``group:N`` token;
the model writes the events and ``end``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from codec.errors import CodecError
from codec.tokens import HEADER_KEYS, Decoded, decode, encode, header_tokens
from codec.vocab import BOS, CTX, CTX_END
from patterns.grid import GROUPS
from patterns.pattern import Event, GroupParams, Pattern

MAX_TOKENS = 256  # the model's context length: prompt + events + end
MAX_CONTEXT_EVENTS = 64  # a longer context keeps the events nearest the start of the pattern


def context_events(
    pattern: Pattern, group: int, include: Iterable[int] | None = None
) -> list[Event]:
    """The events of the other groups (all, or those in ``include``), in time order."""
    if not 1 <= group <= len(GROUPS):
        raise CodecError(f"group must be in 1..{len(GROUPS)}, got {group}")
    groups = {g.number for g in GROUPS} if include is None else set(include)
    groups.discard(group)
    events = [e for e in pattern.events if e.group in groups]
    return events[:MAX_CONTEXT_EVENTS]


def context_tokens(events: Sequence[Event]) -> list[str]:
    """``ctx step:S track:T ... /ctx`` for the given context events."""
    tokens = [CTX]
    for e in events:
        tokens += [f"step:{e.step}", f"track:{e.track}"]
    tokens.append(CTX_END)
    return tokens


def prompt_tokens(
    pattern: Pattern,
    group: int,
    params: GroupParams,
    include: Iterable[int] | None = None,
) -> list[str]:
    """What a runner feeds: ``<bos>``, the context, the group's header."""
    return [BOS, *context_tokens(context_events(pattern, group, include)),
            *header_tokens(params, group)]


def sequence_tokens(
    pattern: Pattern,
    group: int,
    params: GroupParams | None = None,
    include: Iterable[int] | None = None,
) -> list[str]:
    """A full training sequence: the prompt, then the group's events and ``end``."""
    params = params or pattern.group_params(group)
    body = encode(pattern, group, params)
    return [BOS, *context_tokens(context_events(pattern, group, include)), *body]


def group_part(tokens: Sequence[str]) -> list[str]:
    """The group's own sequence (header .. end) of a full sequence, for ``codec.tokens.decode``."""
    toks = list(tokens)
    if CTX_END in toks:
        return toks[toks.index(CTX_END) + 1 :]
    if toks and toks[0] == BOS:
        return toks[1:]
    return toks


def decode_sequence(tokens: Sequence[str], strict: bool = True) -> Decoded:
    """Decode the group written after a context prefix."""
    part = group_part(tokens)
    if len(part) < len(HEADER_KEYS):
        raise CodecError("sequence has no group header after the context")
    return decode(part, strict=strict)
