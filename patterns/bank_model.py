"""Bank values: 128 slots A01..H16, chains of (slot, repeats), the bank's errors.

A Bank is a frozen value like Pattern: every edit returns a new Bank, so the app
can hand a snapshot to the player or a save thread without copying.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from patterns.pattern import MAX_TEMPO, MIN_TEMPO, Pattern

BANK_LETTERS = "ABCDEFGH"
SLOTS_PER_BANK = 16
SLOT_NAMES: tuple[str, ...] = tuple(
    f"{letter}{number:02d}" for letter in BANK_LETTERS for number in range(1, SLOTS_PER_BANK + 1)
)
SLOT_INDEX: Mapping[str, int] = MappingProxyType({name: i for i, name in enumerate(SLOT_NAMES)})
MAX_REPEATS = 99
MAX_CHAIN_NAME = 32
MAX_CHAIN_LENGTH = 999
_SLOT_RE = re.compile(r"([A-Ha-h])0*([0-9]{1,2})")


class BankError(Exception):
    """A bank that cannot be read, written or used: one line naming file, slot and field."""


class BankLockedError(BankError):
    """Another program holds the bank's lock (``pid`` is its process id, None if unknown)."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


def check_slot(name: str) -> str:
    """The canonical slot name: "a1", "A1", " a01 " -> "A01".

    Raises:
        BankError: not a slot of A01..H16.
    """
    if isinstance(name, str):
        m = _SLOT_RE.fullmatch(name.strip())
        if m and 1 <= int(m.group(2)) <= SLOTS_PER_BANK:
            return f"{m.group(1).upper()}{int(m.group(2)):02d}"
    raise BankError(f"slot must be A01..H16 (banks A..H, slots 01..{SLOTS_PER_BANK}), got {name!r}")


def check_chain_name(name: str) -> str:
    """A chain name: 1..32 printable characters, no leading or trailing space."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise BankError(f"chain name must be 1..{MAX_CHAIN_NAME} characters, got {name!r}")
    if len(name) > MAX_CHAIN_NAME or not name.isprintable():
        raise BankError(
            f"chain name must be 1..{MAX_CHAIN_NAME} printable characters, got {name!r}"
        )
    return name


# One chain entry: a slot and how many times it plays, written A01*4. A01x4 (no shell
# quoting needed) and A01:4 are read too, so a chain pasted from anywhere works.
_ENTRY_RE = re.compile(r"([A-Ha-h][0-9]{1,2})(?:[xX*:]([0-9]+))?")


def chain_entry(text: str) -> tuple[str, int]:
    """(slot, repeats) from "A01", "A01*4", "a1x4"; BankError naming the form otherwise."""
    m = _ENTRY_RE.fullmatch(text.strip())
    if m is None:
        raise BankError(f"a chain entry must be SLOT or SLOT*N (A01, A01*4), got {text!r}")
    repeats = int(m.group(2) or 1)
    if not 1 <= repeats <= MAX_REPEATS:
        raise BankError(f"repeats must be in 1..{MAX_REPEATS}, got {repeats} in {text!r}")
    return check_slot(m.group(1)), repeats


def chain_text(entries: Iterable[tuple[str, int]]) -> str:
    """Entries as typed: "A01*4 A02" (one syntax everywhere)."""
    return " ".join(slot if repeats == 1 else f"{slot}*{repeats}" for slot, repeats in entries)


def looks_like_chain_entry(text: str) -> bool:
    return _ENTRY_RE.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class Chain:
    """A song: slots played in order, each `repeats` times (1..99)."""

    name: str
    entries: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        check_chain_name(self.name)
        entries = []
        for i, entry in enumerate(self.entries, 1):
            try:
                slot, repeats = entry
            except (TypeError, ValueError):
                raise BankError(
                    f"chain {self.name!r} entry {i}: must be (slot, repeats), got {entry!r}"
                ) from None
            try:
                slot = check_slot(slot)
            except BankError as exc:
                raise BankError(f"chain {self.name!r} entry {i}: {exc}") from None
            if isinstance(repeats, bool) or not isinstance(repeats, int):
                raise BankError(
                    f"chain {self.name!r} entry {i}: repeats must be an integer in "
                    f"1..{MAX_REPEATS}, got {repeats!r}"
                )
            if not 1 <= repeats <= MAX_REPEATS:
                raise BankError(
                    f"chain {self.name!r} entry {i}: repeats must be in 1..{MAX_REPEATS}, "
                    f"got {repeats}"
                )
            entries.append((slot, repeats))
        if len(entries) > MAX_CHAIN_LENGTH:
            raise BankError(
                f"chain {self.name!r} must have 0..{MAX_CHAIN_LENGTH} entries, got {len(entries)}"
            )
        object.__setattr__(self, "entries", tuple(entries))

    @property
    def bars(self) -> int:
        """Its length in bars (each pattern is 2 bars)."""
        return 2 * sum(r for _, r in self.entries)

    def slots(self) -> Iterator[str]:
        """The slots in play order, each repeat spelled out."""
        for slot, repeats in self.entries:
            for _ in range(repeats):
                yield slot


def _slot_order(name: str) -> tuple[int, str]:
    return (SLOT_INDEX.get(name, len(SLOT_NAMES)), name)


def _slot_map(slots: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """Slots in slot order; for raw (unread) entries, keys that are not slots are kept."""
    checked: dict[str, Any] = {}
    for key, value in slots.items():
        if what == "raw":
            if not isinstance(key, str):
                raise BankError(f"unread slot key must be a string, got {key!r}")
            name = key
        else:
            name = check_slot(key)
            if not isinstance(value, Pattern):
                raise BankError(f"slot {name}: must hold a Pattern, got {type(value).__name__}")
        if name in checked:
            raise BankError(f"slot {name} given twice")
        checked[name] = value
    return MappingProxyType({name: checked[name] for name in sorted(checked, key=_slot_order)})


@dataclass(frozen=True)
class Bank:
    """128 slots (empty ones absent from ``slots``), named chains and a name.

    ``unread_slots`` and ``unread_chains`` hold, as raw JSON values, the entries of
    the file that could not be read (a hand edit gone wrong). They are written back
    as they were, so saving never deletes them; setting or clearing the slot (or
    the chain) replaces them.

    ``extra`` holds the file's top-level keys this program does not know, and
    ``slot_extra`` per slot the keys of the slot (and, under "groups", of each
    group) it does not know: a comment, a colour added by hand or by a newer
    version. They are written back as they were; a slot keeps its own while it is
    filled (a new pattern in it too) and loses them when it is cleared.
    """

    slots: Mapping[str, Pattern] = field(default_factory=dict)
    chains: Mapping[str, Chain] = field(default_factory=dict)
    name: str = ""
    unread_slots: Mapping[str, Any] = field(default_factory=dict)
    unread_chains: Mapping[str, Any] = field(default_factory=dict)
    # the tempo every slot plays at unless it keeps its own (Pattern.own_tempo); None in
    # a file from before the global tempo, where the app starts at the first slot's
    tempo: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    slot_extra: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", _slot_map(self.slots, "pattern"))
        object.__setattr__(self, "unread_slots", _slot_map(self.unread_slots, "raw"))
        chains: dict[str, Chain] = {}
        for key, chain in self.chains.items():
            if not isinstance(chain, Chain):
                raise BankError(f"chain {key!r}: must be a Chain, got {type(chain).__name__}")
            if key != chain.name:
                raise BankError(f"chain {chain.name!r} is filed under another name, {key!r}")
            chains[key] = chain
        object.__setattr__(self, "chains", MappingProxyType(chains))
        object.__setattr__(self, "unread_chains", MappingProxyType(dict(self.unread_chains)))
        # the file has one entry per slot and per chain: never both a value and a raw one
        for name in self.unread_slots:
            if name in self.slots:
                raise BankError(f"slot {name} is both filled and unread")
        for name in self.unread_chains:
            if not isinstance(name, str) or name in self.chains:
                raise BankError(f"chain {name!r} is both read and unread")
        if not isinstance(self.name, str):
            raise BankError(f"bank name must be a string, got {self.name!r}")
        if self.tempo is not None:
            if isinstance(self.tempo, bool) or not isinstance(self.tempo, int | float) or not (
                MIN_TEMPO <= self.tempo <= MAX_TEMPO
            ):
                raise BankError(
                    f"bank tempo must be in {MIN_TEMPO:g}..{MAX_TEMPO:g} BPM, got {self.tempo!r}"
                )
            object.__setattr__(self, "tempo", float(self.tempo))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))
        object.__setattr__(
            self,
            "slot_extra",
            MappingProxyType({k: v for k, v in self.slot_extra.items()
                              if v and (k in self.slots or k in self.unread_slots)}),
        )

    # --- reading -------------------------------------------------------------------

    def get(self, slot: str) -> Pattern | None:
        """The pattern in a slot, None if the slot is empty."""
        return self.slots.get(check_slot(slot))

    def __getitem__(self, slot: str) -> Pattern:
        pattern = self.get(slot)
        if pattern is None:
            raise BankError(f"slot {check_slot(slot)} is empty")
        return pattern

    def filled(self) -> list[str]:
        """The filled slots, in slot order."""
        return list(self.slots)

    def is_empty(self) -> bool:
        return not self.slots and not self.unread_slots

    def chain(self, name: str) -> Chain:
        try:
            return self.chains[name]
        except KeyError:
            known = ", ".join(self.chains) or "none"
            raise BankError(f"no chain named {name!r} (chains: {known})") from None

    def chain_patterns(self, name: str, empty: Pattern | None = None) -> list[tuple[str, Pattern]]:
        """A chain as (slot, pattern) in play order, repeats spelled out.

        An empty slot plays as 2 bars of silence (``empty``, or an empty pattern at the
        tempo of the pattern before it): a rest, as on a drum machine.
        """
        result: list[tuple[str, Pattern]] = []
        for slot in self.chain(name).slots():
            pattern = self.slots.get(slot)
            pattern = self.playing(pattern) if pattern is not None else None
            if pattern is None:
                if empty is not None:
                    pattern = empty
                else:
                    tempo = result[-1][1].tempo if result else (self.tempo or 120.0)
                    pattern = Pattern(tempo=tempo)
            result.append((slot, pattern))
        return result

    def next_free(self, start: str = "A01") -> str | None:
        """The first empty slot at or after ``start``, None if the rest are full."""
        for name in SLOT_NAMES[SLOT_INDEX[check_slot(start)] :]:
            if name not in self.slots and name not in self.unread_slots:
                return name
        return None

    # --- editing: every method returns a new Bank -----------------------------------

    def _replace(self, **changes: Any) -> Bank:
        values = {
            "slots": self.slots,
            "chains": self.chains,
            "name": self.name,
            "unread_slots": self.unread_slots,
            "unread_chains": self.unread_chains,
            "tempo": self.tempo,
            "extra": self.extra,
            "slot_extra": self.slot_extra,
        }
        values.update(changes)
        return Bank(**values)

    def with_tempo(self, tempo: float | None) -> Bank:
        """The global tempo: every slot without its own plays at it."""
        return self._replace(tempo=tempo)

    def tempo_of(self, slot: str) -> float:
        """The tempo a slot plays at: its own, or the bank's."""
        return self.playing(self[slot]).tempo

    def playing(self, pattern: Pattern) -> Pattern:
        """A pattern of this bank as it plays: at the bank's tempo unless it keeps its own."""
        if pattern.own_tempo or self.tempo is None or pattern.tempo == self.tempo:
            return pattern
        return pattern.with_tempo(self.tempo)

    def with_slot(self, slot: str, pattern: Pattern) -> Bank:
        name = check_slot(slot)
        if not isinstance(pattern, Pattern):
            raise BankError(f"slot {name}: must hold a Pattern, got {type(pattern).__name__}")
        slots = dict(self.slots)
        slots[name] = pattern
        unread = {k: v for k, v in self.unread_slots.items() if k != name}
        return self._replace(slots=slots, unread_slots=unread)

    def with_slots(self, items: Iterable[tuple[str, Pattern]]) -> Bank:
        bank = self
        for slot, pattern in items:
            bank = bank.with_slot(slot, pattern)
        return bank

    def without_slot(self, slot: str) -> Bank:
        name = check_slot(slot)
        slots = {k: v for k, v in self.slots.items() if k != name}
        unread = {k: v for k, v in self.unread_slots.items() if k != name}
        return self._replace(slots=slots, unread_slots=unread)

    def copy_slot(self, source: str, target: str) -> Bank:
        return self.with_slot(target, self[source])

    def with_chain(self, chain: Chain) -> Bank:
        chains = dict(self.chains)
        chains[chain.name] = chain
        unread = {k: v for k, v in self.unread_chains.items() if k != chain.name}
        return self._replace(chains=chains, unread_chains=unread)

    def without_chain(self, name: str) -> Bank:
        if name not in self.chains and name not in self.unread_chains:
            self.chain(name)  # raises, naming the chains there are
        chains = {k: v for k, v in self.chains.items() if k != name}
        unread = {k: v for k, v in self.unread_chains.items() if k != name}
        return self._replace(chains=chains, unread_chains=unread)

    def with_name(self, name: str) -> Bank:
        return self._replace(name=name)


@dataclass(frozen=True)
class LoadResult:
    """A loaded bank and one line per slot or chain that was skipped."""

    bank: Bank
    warnings: tuple[str, ...] = ()
