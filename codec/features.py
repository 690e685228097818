"""Density and intensity: the two musical controls of the model's header.

Definitions (per group of a 2-bar pattern):

- density: the number of events in the group.
- intensity: the share of the group's events that fall off the beat, i.e. whose
  step is not on a quarter note (step % 4 != 0). An empty group has intensity 0.

Both are binned low / mid / high by edges computed from the training set:
the tertiles (1/3 and 2/3 quantiles) of the non-empty groups, per group. A value
<= the first edge is low, <= the second is mid, above is high; an empty group is
always low. The edges are data (``Bins``) that travel with a model (GGUF metadata)
and in a corpus's stats.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codec.errors import CodecError
from patterns.grid import GROUPS, STEPS_PER_BEAT
from patterns.pattern import LEVELS, Event

DEFAULT_BINS_FILE = Path(__file__).with_name("default_bins.json")


def density(events: Sequence[Event]) -> int:
    return len(events)


def intensity(events: Sequence[Event]) -> float:
    if not events:
        return 0.0
    off = sum(1 for e in events if e.step % STEPS_PER_BEAT != 0)
    return off / len(events)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of already sorted values."""
    if not sorted_values:
        return 0.0
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _level(value: float, edges: tuple[float, float]) -> str:
    if value <= edges[0]:
        return LEVELS[0]
    if value <= edges[1]:
        return LEVELS[1]
    return LEVELS[2]


@dataclass(frozen=True, slots=True)
class Bins:
    """Per-group tertile edges for density (events) and intensity (share off the beat)."""

    density: tuple[tuple[float, float], ...]  # one (low|mid, mid|high) pair per group
    intensity: tuple[tuple[float, float], ...]

    def density_level(self, events: Sequence[Event], group: int) -> str:
        if not events:
            return LEVELS[0]
        return _level(density(events), self.density[group - 1])

    def intensity_level(self, events: Sequence[Event], group: int) -> str:
        if not events:
            return LEVELS[0]
        return _level(intensity(events), self.intensity[group - 1])

    @classmethod
    def from_groups(cls, groups: Iterable[tuple[int, Sequence[Event]]]) -> Bins:
        """Tertile edges from (group, events) pairs, e.g. every group of the train split."""
        counts: dict[int, list[float]] = {g.number: [] for g in GROUPS}
        shares: dict[int, list[float]] = {g.number: [] for g in GROUPS}
        for group, events in groups:
            if events:
                counts[group].append(density(events))
                shares[group].append(intensity(events))
        dens, ints = [], []
        for g in GROUPS:
            c, s = sorted(counts[g.number]), sorted(shares[g.number])
            dens.append((_quantile(c, 1 / 3), _quantile(c, 2 / 3)))
            ints.append((round(_quantile(s, 1 / 3), 6), round(_quantile(s, 2 / 3), 6)))
        return cls(tuple(dens), tuple(ints))

    def to_dict(self) -> dict:
        return {
            "definition": "density: events in the group; intensity: share of events with "
            "step % 4 != 0; edges (a, b): <= a low, <= b mid, > b high; empty group low",
            "density": {str(g.number): list(self.density[g.number - 1]) for g in GROUPS},
            "intensity": {str(g.number): list(self.intensity[g.number - 1]) for g in GROUPS},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Bins:
        try:
            dens = tuple(
                (float(data["density"][str(g.number)][0]), float(data["density"][str(g.number)][1]))
                for g in GROUPS
            )
            ints = tuple(
                (
                    float(data["intensity"][str(g.number)][0]),
                    float(data["intensity"][str(g.number)][1]),
                )
                for g in GROUPS
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise CodecError(f"bins are malformed: {exc!r}") from None
        return cls(dens, ints)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Bins:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise CodecError(f"bins are not JSON: {exc}") from None

    @classmethod
    def default(cls) -> Bins:
        """The bins of the Groove MIDI Dataset's train split (made by `autobeat dataset`)."""
        return cls.from_json(DEFAULT_BINS_FILE.read_text(encoding="utf-8"))
