"""The bank file: human-readable, diff-friendly JSON with a format version.

Layout (format version 2; version 1 is the same without conditions, phrase and vary,
and still loads)::

    {
      "format": "autobeat-bank",
      "version": 1,
      "name": "live set",
      "tempo": 96.0,
      "slots": {
        "A01": {
          "name": "Funk 1",
          "tempo": 96.0,
          "swing": 54.0,
          "own_tempo": true,
          "groups": [
            {"seed": 1234, "model": "autobeat.gguf", "auto": ["density"],
              "tokens": "genre:funk type:beat density:high intensity:mid group:1
              step:0 track:1 offset:0 velocity:96 ... end"},
            {"seed": null, "model": "", "tokens": "genre:funk type:beat ... group:2 ... end"},
            ...  (four groups: drums, hats, toms, cymbals)
          ],
          "conditions": [[4, 1, "1:2"], [2, 5, "40%"]],
          "phrase": 8,
          "vary": 0.1
        }
      },
      "chains": {
        "song": [
          ["A01", 4],
          ["A02", 1]
        ]
      }
    }

The bank's "tempo" is the global tempo every slot plays at, unless the slot has
"own_tempo": true (then it plays at its own "tempo"; the key is written only then).
A file from before the global tempo has no bank "tempo" and no "own_tempo" and loads
as before; its slots follow the global tempo from then on, their own tempos kept.

Each group is one line in the file (wrapped above), so a change to one group
is a one-line diff. ``auto`` (optional) names the levels drawn anew at each
generation (the header then holds the last drawn level). ``conditions`` (optional)
are the conditional trigs as [step 0..31, track 1..12, condition] on one line
(patterns/conditions.py); ``phrase`` and ``vary`` (optional) how the slot plays
(a fill every N bars, the hats varied between fills). Only filled slots are
written, in slot order. Each group's events are its token text (the grammar of
codec.tokens, which reads them back), with one difference from the model's
prompt form: velocities are written exactly (1..127), not as the centre of their
codec bin, so saving never changes a beat. ``codec.tokens.decode`` reads both.

A file that cannot be used at all (not UTF-8, not JSON, not a bank, a newer
format version) raises BankError. A slot or chain that cannot be read is
reported, skipped and kept as it was in ``Bank.unread_slots`` / ``unread_chains``,
so the next save writes it back untouched.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from codec.errors import CodecError
from codec.tokens import decode, header_tokens
from patterns.bank_model import (
    SLOT_INDEX,
    Bank,
    BankError,
    Chain,
    LoadResult,
    check_slot,
)
from patterns.conditions import ConditionError, parse_condition
from patterns.grid import GROUPS, TRACKS
from patterns.pattern import Event, GroupParams, Pattern, PatternError

FORMAT = "autobeat-bank"
FORMAT_VERSION = 2  # 2: conditions, phrase and vary in a slot
TOP_KEYS = ("format", "version", "name", "tempo", "slots", "chains")
SLOT_KEYS = ("name", "tempo", "own_tempo", "swing", "groups", "conditions", "phrase", "vary")
GROUP_KEYS = ("seed", "model", "auto", "tokens")
GROUP_EXTRA = "groups"  # in Bank.slot_extra: the unknown keys of each of the four groups

_TRACK_GROUP = {t.number: t.group for t in TRACKS}


_Quote = Callable[[Any], str]


class _Unreadable(Exception):
    """A slot or chain that cannot be read: the message names the field."""


class _Duplicate(Exception):
    pass


# --- writing ----------------------------------------------------------------------------


def _group_line(params: GroupParams, group: int, events: list[Event], q: _Quote,
                extra: Mapping[str, Any] | None = None) -> str:
    parts = header_tokens(params, group)
    for e in events:
        parts.append(f"step:{e.step} track:{e.track} offset:{e.offset} velocity:{e.velocity}")
    parts.append("end")
    tokens = " ".join(parts)
    auto = f', "auto": {q(sorted(params.auto))}' if params.auto else ""
    more = "".join(f", {q(k)}: {q(v)}" for k, v in extra.items()) if extra else ""
    return (f'{{"seed": {q(params.seed)}, "model": {q(params.model)}{auto}, '
            f'"tokens": {q(tokens)}{more}}}')


def _slot_text(name: str, pattern: Pattern, q: _Quote,
               extra: Mapping[str, Any] | None = None) -> str:
    by_group: list[list[Event]] = [[] for _ in GROUPS]
    for e in pattern.events:
        by_group[_TRACK_GROUP[e.track] - 1].append(e)
    extra = dict(extra or {})
    group_extra = extra.pop(GROUP_EXTRA, None) or [{} for _ in GROUPS]
    groups = ",\n        ".join(
        _group_line(pattern.params[g.number - 1], g.number, by_group[g.number - 1], q,
                    group_extra[g.number - 1] if g.number <= len(group_extra) else None)
        for g in GROUPS
    )
    more = "".join(f',\n      {q(k)}: {_raw_text(v, "      ", q)}' for k, v in extra.items())
    own = ""  # conditional trigs, phrase and vary (format 2), before any unknown keys
    if pattern.conditions:
        conds = ", ".join(f"[{s}, {t}, {q(str(c))}]" for (s, t), c in pattern.conditions)
        own += f',\n      "conditions": [{conds}]'
    if pattern.phrase:
        own += f',\n      "phrase": {pattern.phrase}'
    if pattern.vary:
        own += f',\n      "vary": {q(float(pattern.vary))}'
    more = own + more
    return (
        f"    {q(name)}: {{\n"
        f'      "name": {q(pattern.name)},\n'
        f'      "tempo": {q(float(pattern.tempo))},\n'
        f'      "swing": {q(float(pattern.swing))},\n'
        + ('      "own_tempo": true,\n' if pattern.own_tempo else "")
        + f'      "groups": [\n        {groups}\n      ]{more}\n'
        f"    }}"
    )


def _raw_text(value: Any, indent: str, ensure_ascii: bool | _Quote) -> str:
    if callable(ensure_ascii):  # a quote function: ask it which way it writes
        ensure_ascii = ensure_ascii("\u00e9") != '"\u00e9"'
    text = json.dumps(value, indent=2, ensure_ascii=ensure_ascii)
    return text.replace("\n", "\n" + indent)


def _chain_text(chain: Chain, q: _Quote) -> str:
    if not chain.entries:
        return f"    {q(chain.name)}: []"
    entries = ",\n".join(f'      ["{slot}", {repeats}]' for slot, repeats in chain.entries)
    return f"    {q(chain.name)}: [\n{entries}\n    ]"


def dumps(bank: Bank, ensure_ascii: bool = False) -> str:
    """The file text of a bank (ends with a newline)."""

    def q(value: Any) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii)

    slot_extra = bank.slot_extra
    slots = [
        (_order(name), _slot_text(name, p, q, slot_extra.get(name)))
        for name, p in bank.slots.items()
    ]
    slots += [
        (_order(name), f"    {q(name)}: {_raw_text(raw, '    ', ensure_ascii)}")
        for name, raw in bank.unread_slots.items()
    ]
    slots.sort(key=lambda item: item[0])
    chains = [_chain_text(chain, q) for chain in bank.chains.values()]
    chains += [
        f"    {q(name)}: {_raw_text(raw, '    ', ensure_ascii)}"
        for name, raw in bank.unread_chains.items()
    ]
    slots_text = "{\n" + ",\n".join(text for _, text in slots) + "\n  }" if slots else "{}"
    chains_text = "{\n" + ",\n".join(chains) + "\n  }" if chains else "{}"
    more = "".join(
        f",\n  {q(k)}: {_raw_text(v, '  ', ensure_ascii)}" for k, v in bank.extra.items()
    )
    return (
        "{\n"
        f'  "format": "{FORMAT}",\n'
        f'  "version": {FORMAT_VERSION},\n'
        f'  "name": {q(bank.name)},\n'
        + (f'  "tempo": {q(bank.tempo)},\n' if bank.tempo is not None else "")
        + f'  "slots": {slots_text},\n'
        f'  "chains": {chains_text}{more}\n'
        "}\n"
    )


def encode_bank(bank: Bank) -> bytes:
    """The file's bytes: UTF-8, with \\u escapes only if a name holds a lone surrogate."""
    try:
        return dumps(bank).encode("utf-8")
    except UnicodeEncodeError:
        return dumps(bank, ensure_ascii=True).encode("ascii")


def _order(name: str) -> tuple[int, str]:
    return (SLOT_INDEX.get(name, len(SLOT_INDEX)), name)


# --- reading ----------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return result


def _number(raw: dict, key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Unreadable(f"{key}: must be a number, got {value!r:.40}")
    try:
        value = float(value)
    except OverflowError:
        raise _Unreadable(f"{key}: must be a finite number, got a huge one") from None
    if not math.isfinite(value):
        raise _Unreadable(f"{key}: must be a finite number, got {value!r}")
    return value


def _group(raw: Any, number: int) -> tuple[GroupParams, tuple[Event, ...]]:
    where = f"group {number} ({GROUPS[number - 1].name})"
    if not isinstance(raw, dict):
        raise _Unreadable(f"{where}: must be an object with tokens, seed and model")
    tokens = raw.get("tokens")
    if not isinstance(tokens, str):
        raise _Unreadable(f"{where}: tokens: must be token text, got {tokens!r:.40}")
    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _Unreadable(f"{where}: seed: must be an integer or null, got {seed!r:.40}")
    model = raw.get("model", "")
    if not isinstance(model, str):
        raise _Unreadable(f"{where}: model: must be a string, got {model!r:.40}")
    auto = raw.get("auto", [])
    if not isinstance(auto, list) or not all(isinstance(a, str) for a in auto):
        raise _Unreadable(f"{where}: auto: must be a list of density, intensity, got {auto!r:.40}")
    try:
        decoded = decode(tokens, strict=True)  # the codec's grammar, the one there is
    except CodecError as exc:
        raise _Unreadable(f"{where}: tokens: {exc}") from None
    if decoded.group != number:
        raise _Unreadable(f"{where}: tokens: say group:{decoded.group}, expected group:{number}")
    p = decoded.params
    try:
        params = GroupParams(p.genre, p.type, p.density, p.intensity, seed=seed, model=model,
                             auto=frozenset(auto))
    except PatternError as exc:
        raise _Unreadable(f"{where}: {exc}") from None
    return params, decoded.events


def slot_from_json(raw: Any) -> Pattern:
    """One slot's JSON object as a Pattern (raises _Unreadable naming the field)."""
    if not isinstance(raw, dict):
        raise _Unreadable(f"must be an object with name, tempo, swing and groups, got {raw!r:.40}")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise _Unreadable(f"name: must be a string, got {name!r:.40}")
    tempo = _number(raw, "tempo", 120.0)
    swing = _number(raw, "swing", 50.0)
    own_tempo = raw.get("own_tempo", False)
    if not isinstance(own_tempo, bool):
        raise _Unreadable(f"own_tempo: must be true or false, got {own_tempo!r:.40}")
    groups = raw.get("groups")
    if not isinstance(groups, list) or len(groups) != len(GROUPS):
        got = f"{len(groups)} entries" if isinstance(groups, list) else repr(groups)[:40]
        raise _Unreadable(f"groups: must be a list of {len(GROUPS)} groups, got {got}")
    params = []
    events: list[Event] = []
    for number, group_raw in enumerate(groups, 1):
        p, e = _group(group_raw, number)
        params.append(p)
        events.extend(e)
    conditions = _conditions(raw.get("conditions", []), events)
    phrase = raw.get("phrase", 0)
    if isinstance(phrase, bool) or not isinstance(phrase, int):
        raise _Unreadable(f"phrase: must be 0, 4, 8 or 16, got {phrase!r:.40}")
    vary = _number(raw, "vary", 0.0)
    try:
        return Pattern(
            tuple(events), tuple(params), tempo=tempo, swing=swing, name=name, own_tempo=own_tempo,
            conditions=conditions, phrase=phrase, vary=vary,
        )
    except PatternError as exc:
        raise _Unreadable(str(exc)) from None


def _conditions(raw: Any, events: list[Event]) -> tuple:
    if not isinstance(raw, list):
        raise _Unreadable(f"conditions: must be a list of [step, track, condition], "
                          f"got {raw!r:.40}")
    cells = {(e.step, e.track) for e in events}
    out = []
    for i, item in enumerate(raw, 1):
        if (not isinstance(item, list) or len(item) != 3
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in item[:2])
                or not isinstance(item[2], str)):
            raise _Unreadable(f"conditions: entry {i}: must be [step, track, condition], "
                              f"got {item!r:.40}")
        step, track, text = item
        if (step, track) not in cells:
            raise _Unreadable(f"conditions: entry {i}: no hit on step {step} of track {track}")
        try:
            out.append(((step, track), parse_condition(text)))
        except ConditionError as exc:
            raise _Unreadable(f"conditions: entry {i}: {exc}") from None
    return tuple(out)


def chain_from_json(name: str, raw: Any) -> Chain:
    if not isinstance(raw, list):
        raise _Unreadable(f"must be a list of [slot, repeats], got {raw!r:.40}")
    entries = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, list) or len(entry) != 2:
            raise _Unreadable(f"entry {i}: must be [slot, repeats], got {entry!r:.40}")
        entries.append((entry[0], entry[1]))
    try:
        return Chain(name, tuple(entries))
    except BankError as exc:
        raise _Unreadable(str(exc).removeprefix(f"chain {name!r} ")) from None


def _parse_json(data: bytes, source: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BankError(f"{source}: not a bank file (not UTF-8 text at byte {exc.start})") from None
    if not text.strip():
        raise BankError(f"{source}: the file is empty, not a bank")
    try:
        top = json.loads(text, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise BankError(f"{source}: key {exc.args[0]!r} appears twice") from None
    except json.JSONDecodeError as exc:
        cut = "truncated, " if not text.rstrip().endswith("}") else ""
        raise BankError(
            f"{source}: {cut}not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        raise BankError(f"{source}: not a bank file: {str(exc)[:80]}") from None
    return check_header(top, source)


def check_header(top: Any, source: str) -> dict[str, Any]:
    """The top-level object, checked for the format and a version this program reads."""
    if not isinstance(top, dict) or top.get("format") != FORMAT:
        raise BankError(f'{source}: not an AutoBeat bank (no "format": "{FORMAT}")')
    version = top.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BankError(f"{source}: version: must be a positive integer, got {version!r:.40}")
    if version > FORMAT_VERSION:
        raise BankError(
            f"{source}: bank format version {version} is newer than this program reads "
            f"(up to {FORMAT_VERSION}); update autobeat to open it"
        )
    return top


def check_bytes(data: bytes, source: str) -> None:
    """Raise BankError unless ``data`` is a bank file this program can read (no slot checks)."""
    _parse_json(data, source)


def loads(data: bytes | str, source: str = "<bank>") -> LoadResult:
    """A bank from its file contents; bad slots and chains are skipped with a warning."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    top = _parse_json(data, source)
    name = top.get("name", "")
    if not isinstance(name, str):
        raise BankError(f"{source}: name: must be a string, got {name!r:.40}")
    raw_slots = top.get("slots", {})
    if not isinstance(raw_slots, dict):
        raise BankError(
            f"{source}: slots: must be an object of slot: pattern, got {raw_slots!r:.40}"
        )
    raw_chains = top.get("chains", {})
    if not isinstance(raw_chains, dict):
        raise BankError(
            f"{source}: chains: must be an object of name: list, got {raw_chains!r:.40}"
        )
    warnings: list[str] = []
    tempo = top.get("tempo")  # absent in files from before the global tempo
    if tempo is not None:
        try:
            tempo = Bank(tempo=_number(top, "tempo", 120.0)).tempo
        except (_Unreadable, BankError) as exc:
            warnings.append(f"{source}: tempo skipped (each slot plays at its own): {exc}")
            tempo = None
    slots: dict[str, Pattern] = {}
    unread: dict[str, Any] = {}
    slot_extra: dict[str, dict[str, Any]] = {}
    spelled: dict[str, str] = {}  # slot -> its key in the file
    for key, raw in raw_slots.items():
        try:
            slot = check_slot(key)
        except BankError as exc:
            warnings.append(f"{source}: slot {key!r:.40} skipped: {exc}")
            unread[key] = raw
            continue
        if slot in spelled:
            raise BankError(
                f"{source}: slot {slot} is in the file twice (as {spelled[slot]!r:.20} and "
                f"{key!r:.20}); keep one of them (rename the other to a free slot) and open "
                "it again"
            )
        spelled[slot] = key
        try:
            slots[slot] = slot_from_json(raw)
        except _Unreadable as exc:
            warnings.append(f"{source}: slot {slot} skipped: {exc}")
            unread[slot] = raw
            continue
        extra = _unknown_keys(raw)
        if extra:
            slot_extra[slot] = extra
    chains: dict[str, Chain] = {}
    unread_chains: dict[str, Any] = {}
    for key, raw in raw_chains.items():
        try:
            chains[key] = chain_from_json(key, raw)
        except _Unreadable as exc:
            warnings.append(f"{source}: chain {key!r:.40} skipped: {exc}")
            unread_chains[key] = raw
    extra = {k: v for k, v in top.items() if k not in TOP_KEYS}
    bank = Bank(slots, chains, name, unread_slots=unread, unread_chains=unread_chains,
                tempo=tempo, extra=extra, slot_extra=slot_extra)
    return LoadResult(bank, tuple(warnings))


def _unknown_keys(raw: dict) -> dict[str, Any]:
    """A read slot's keys this program does not know (and its groups', under "groups")."""
    extra = {k: v for k, v in raw.items() if k not in SLOT_KEYS}
    groups = [{k: v for k, v in g.items() if k not in GROUP_KEYS} for g in raw["groups"]]
    if any(groups):
        extra[GROUP_EXTRA] = groups
    return extra


def to_mapping(bank: Bank) -> Mapping[str, Any]:
    """The bank as the JSON value the file holds (for tools and tests)."""
    return json.loads(dumps(bank))
