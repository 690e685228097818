"""Banks <-> Standard MIDI Files, through the codec (codec.midi).

Export: one slot, a chain (repeats spelled out; an empty slot is 2 bars of rest)
or every filled slot in slot order, as one type-1 file with a tempo track and a
drum track through a kit map, ready to drop into a DAW.

Import: the first 2 bars of a file into one slot, or every 2-bar window into
consecutive slots. Each group's density and intensity header is measured from
its events with the codec's bins, so a slot imported from MIDI can seed the model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codec.errors import CodecError
from codec.features import Bins
from codec.midi import NOTE_MAP, kit_note_map, midi_to_patterns, write_midi
from patterns.bank_model import SLOT_INDEX, SLOT_NAMES, Bank, BankError, check_slot
from patterns.conditions import played_in_turn
from patterns.grid import GROUPS
from patterns.kit import KitMap
from patterns.pattern import GroupParams, Pattern, PatternError


def slot_patterns(bank: Bank, slots: Sequence[str]) -> list[Pattern]:
    """The patterns of the given slots, in the order given (each must be filled)."""
    patterns = []
    for slot in slots:
        name = check_slot(slot)
        pattern = bank.slots.get(name)
        if pattern is None:
            raise BankError(f"slot {name} is empty: nothing to export")
        patterns.append(bank.playing(pattern))
    return patterns


def export_patterns(
    path: str | os.PathLike[str],
    patterns: Sequence[Pattern],
    kit: KitMap | None = None,
    name: str = "AutoBeat",
    force: bool = False,
    seed: int = 0,
) -> Path:
    """Write patterns one after another as a type-1 MIDI file (raises BankError), their
    conditional trigs played out loop by loop from the first (seed ``seed``).

    Never over the open bank, its .bak or lock; over an existing file that is not a
    MIDI file only with ``force``."""
    if not patterns:
        raise BankError(f"{path}: nothing to export (no patterns)")
    try:
        return write_midi(path, played_in_turn(patterns, seed), kit, force=force, name=name)
    except CodecError as exc:
        raise BankError(str(exc)) from None


def export_slot(
    bank: Bank, slot: str, path: str | os.PathLike[str], kit: KitMap | None = None,
    force: bool = False,
    loops: int = 1, seed: int = 0,
) -> Path:
    """One slot, ``loops`` times (its conditional trigs played out loop by loop)."""
    pattern = slot_patterns(bank, [slot])[0]
    if loops < 1:
        raise BankError(f"loops must be at least 1, got {loops}")
    return export_patterns(path, [pattern] * loops, kit, name=pattern.name or check_slot(slot),
                           force=force, seed=seed)


def export_chain(
    bank: Bank, chain: str, path: str | os.PathLike[str], kit: KitMap | None = None,
    force: bool = False,
) -> Path:
    items = bank.chain_patterns(chain)
    if not items:
        raise BankError(f"chain {chain!r} is empty: nothing to export")
    return export_patterns(path, [p for _, p in items], kit, name=chain, force=force)


def export_all(bank: Bank, path: str | os.PathLike[str], kit: KitMap | None = None,
               force: bool = False) -> Path:
    if not bank.slots:
        raise BankError("the bank has no filled slots: nothing to export")
    patterns = [bank.playing(p) for p in bank.slots.values()]
    return export_patterns(path, patterns, kit, name=bank.name or "AutoBeat", force=force)


@dataclass(frozen=True)
class Imported:
    """What an import put where."""

    bank: Bank
    slots: tuple[str, ...]  # the slots written, in order
    dropped: int = 0  # 1 when the file goes on past H16 (not read further, so not counted)


def measured_params(pattern: Pattern, genre: str = "rock", bins: Bins | None = None) -> Pattern:
    """The pattern with each group's header set from its events: density and intensity
    by the codec's bins, the given genre, type beat, no seed and no model."""
    bins = bins or Bins.default()
    params = []
    for group in GROUPS:
        events = pattern.group_events(group.number)
        params.append(
            GroupParams(
                genre=genre,
                type="beat",
                density=bins.density_level(events, group.number),
                intensity=bins.intensity_level(events, group.number),
            )
        )
    return replace(pattern, params=tuple(params))


def read_patterns(
    path: str | os.PathLike[str],
    kit: KitMap | None = None,
    genre: str = "rock",
    limit: int | None = None,
) -> list[Pattern]:
    """Every 2-bar window of a MIDI file (at most ``limit``), back to back, named
    "<file> bar N"."""
    note_map = kit_note_map(kit) if kit is not None else NOTE_MAP
    try:
        patterns = midi_to_patterns(str(path), note_map, limit=limit)
    except CodecError as exc:
        raise BankError(str(exc)) from None
    stem = Path(path).stem
    bins = Bins.default()
    try:
        return [
            measured_params(p, genre, bins).with_name(f"{stem} bar {1 + 2 * i}")
            for i, p in enumerate(patterns)
        ]
    except PatternError as exc:
        raise BankError(f"{path}: {exc}") from None


def import_midi(
    bank: Bank,
    path: str | os.PathLike[str],
    slot: str,
    windows: bool = False,
    kit: KitMap | None = None,
    genre: str = "rock",
) -> Imported:
    """Put a MIDI file into ``slot`` (its first 2 bars), or with ``windows`` every 2-bar
    window into consecutive slots from ``slot``. The file is read only as far as the
    slots reach; ``dropped`` is 1 when it goes on past H16 (the rest is not read).
    """
    first = SLOT_INDEX[check_slot(slot)]
    room = len(SLOT_NAMES) - first
    patterns = read_patterns(path, kit, genre, limit=room + 1 if windows else 1)
    kept, dropped = patterns[:room], max(0, len(patterns) - room)
    targets = SLOT_NAMES[first : first + len(kept)]
    new = bank.with_slots(zip(targets, kept, strict=True))
    return Imported(new, tuple(targets), dropped)
