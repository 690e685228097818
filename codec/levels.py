"""Auto levels: density and intensity drawn the way real drummers play.

A user who does not pin a group's density or intensity gets ``auto``: the level
is drawn from how the real beats of the genre and type are played. What is
drawn is a whole *profile* of a real 2-bar window, so the groups of one beat
fit each other (a busy hat over sparse drums, toms only in some beats, a ride
pattern instead of hats):

- per group: the density level, the intensity level, and whether the group is
  empty (a real beat often has no toms; the level alone cannot say so: an
  empty group's level is "low", as are 1..3 toms);
- whether the drums' bar 2 repeats bar 1 (``codec.levels.near_repeat``), the
  loop form of the window.

``LevelTable`` counts the profiles per genre and type (from the train split,
``from_windows``) and travels with a model (GGUF metadata ``autobeat.levels``).
``draw`` picks a profile at random in proportion to its count; the groups a
pattern already has are evidence: each group a profile disagrees on divides its
weight by ``MISMATCH`` (1000: in effect the profiles that agree with all of
them, or where none does, those that agree with most), so a group written into
a pattern fits what is there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from codec.errors import CodecError
from codec.features import Bins
from patterns.grid import GROUPS, STEPS_PER_BAR
from patterns.pattern import LEVELS, Pattern

TABLE_VERSION = 1
MISMATCH = 1000.0  # weight divided by this for each group a profile disagrees on
NEAR_REPEAT_SHARE = 0.2  # bar 2 differs from bar 1 on at most this share of cells
_CODE = {"low": "l", "mid": "m", "high": "h"}
_LEVEL = {v: k for k, v in _CODE.items()}


@dataclass(frozen=True, slots=True)
class GroupLevel:
    """One group's part of a profile."""

    density: str
    intensity: str
    empty: bool = False

    def code(self) -> str:
        return ("0" if self.empty else _CODE[self.density]) + _CODE[self.intensity]


@dataclass(frozen=True, slots=True)
class Profile:
    """The levels of the four groups of a real window, and its loop form."""

    groups: tuple[GroupLevel, ...]
    repeat: bool  # the drums' bar 2 (nearly) repeats bar 1

    def code(self) -> str:
        return "".join(g.code() for g in self.groups) + ("r" if self.repeat else "-")

    @classmethod
    def from_code(cls, code: str) -> Profile:
        n = len(GROUPS)
        if len(code) != 2 * n + 1 or code[-1] not in "r-":
            raise CodecError(f"level profile {code!r} is malformed")
        groups = []
        for k in range(n):
            d, i = code[2 * k], code[2 * k + 1]
            if d not in "0lmh" or i not in "lmh":
                raise CodecError(f"level profile {code!r} is malformed")
            groups.append(GroupLevel("low" if d == "0" else _LEVEL[d], _LEVEL[i], d == "0"))
        return cls(tuple(groups), code[-1] == "r")


def near_repeat(pattern: Pattern, group: int = 1) -> bool:
    """The group's bar 2 repeats bar 1 but for at most 20 % of the cells either bar uses."""
    tracks = set(GROUPS[group - 1].tracks)
    cells: tuple[set, set] = (set(), set())
    for e in pattern.events:
        if e.track in tracks:
            cells[e.step // STEPS_PER_BAR].add((e.step % STEPS_PER_BAR, e.track))
    used = cells[0] | cells[1]
    return bool(used) and len(cells[0] ^ cells[1]) <= NEAR_REPEAT_SHARE * len(used)


def group_level(pattern: Pattern, group: int, bins: Bins) -> GroupLevel:
    events = pattern.group_events(group)
    return GroupLevel(bins.density_level(events, group), bins.intensity_level(events, group),
                      not events)


def profile_of(pattern: Pattern, bins: Bins) -> Profile:
    return Profile(tuple(group_level(pattern, g.number, bins) for g in GROUPS),
                   near_repeat(pattern))


class LevelTable:
    """Profile counts per (genre, type) (see the module docstring)."""

    def __init__(self, counts: Mapping[tuple[str, str], Mapping[str, int]]):
        self._rows: dict[tuple[str, str], tuple[list[Profile], np.ndarray]] = {}
        for key, row in counts.items():
            profiles = [Profile.from_code(c) for c in sorted(row)]
            weights = np.array([float(row[c]) for c in sorted(row)])
            if len(profiles) and np.all(weights > 0):
                self._rows[key] = (profiles, weights)

    @classmethod
    def from_windows(cls, windows: Iterable[tuple[str, str, Pattern]], bins: Bins) -> LevelTable:
        """From (genre, type, pattern) windows, e.g. the train split."""
        counts: dict[tuple[str, str], Counter] = {}
        for genre, kind, pattern in windows:
            counts.setdefault((genre, kind), Counter())[profile_of(pattern, bins).code()] += 1
        return cls(counts)

    def merged(self, other: LevelTable) -> LevelTable:
        """This table's counts plus another's (a fine-tune adds its data's beats)."""
        counts: dict[tuple[str, str], Counter] = {}
        for table in (self, other):
            for key, (profiles, weights) in table._rows.items():
                row = counts.setdefault(key, Counter())
                for p, w in zip(profiles, weights, strict=True):
                    row[p.code()] += int(w)
        return LevelTable(counts)

    def keys(self) -> list[tuple[str, str]]:
        return sorted(self._rows)

    def to_json(self) -> str:
        data: dict = {"version": TABLE_VERSION, "profiles": {}}
        for (genre, kind), (profiles, weights) in sorted(self._rows.items()):
            data["profiles"].setdefault(genre, {})[kind] = {
                p.code(): int(w) for p, w in zip(profiles, weights, strict=True)}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LevelTable:
        try:
            data = json.loads(text)
            if data.get("version") != TABLE_VERSION:
                raise CodecError(f"level table version {data.get('version')!r}, "
                                 f"this codec reads {TABLE_VERSION}")
            counts = {(genre, kind): {str(c): int(n) for c, n in row.items()}
                      for genre, kinds in data["profiles"].items() for kind, row in kinds.items()}
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            raise CodecError(f"level table is malformed: {exc!r:.80}") from None
        return cls(counts)

    def draw(
        self,
        genre: str,
        kind: str,
        rng: np.random.Generator,
        evidence: Mapping[int, GroupLevel] | None = None,
        exclude_empty: Sequence[int] = (),
    ) -> Profile:
        """A profile for (genre, type), weighted by count and by agreement with ``evidence``.

        exclude_empty: groups that must not be drawn empty (a group the user asked for).
        Falls back to the type's profiles over all genres, then to every profile.
        """
        row = self._rows.get((genre, kind))
        if row is None:
            row = self._pooled(lambda k: k[1] == kind) or self._pooled(lambda k: True)
        if row is None:
            raise CodecError("level table is empty")
        profiles, weights = row
        w = weights.copy()
        for n, p in enumerate(profiles):
            for g in exclude_empty:
                if p.groups[g - 1].empty:
                    w[n] = 0.0
            for g, level in (evidence or {}).items():
                if p.groups[g - 1] != level:
                    w[n] /= MISMATCH
        if w.sum() <= 0:  # only empty profiles were left: keep the counts
            w = weights.copy()
        return profiles[int(rng.choice(len(profiles), p=w / w.sum()))]

    def _pooled(self, want) -> tuple[list[Profile], np.ndarray] | None:
        pooled: Counter = Counter()
        for key, (profiles, weights) in self._rows.items():
            if want(key):
                for p, wt in zip(profiles, weights, strict=True):
                    pooled[p.code()] += wt
        if not pooled:
            return None
        codes = sorted(pooled)
        return [Profile.from_code(c) for c in codes], np.array([pooled[c] for c in codes])


__all__ = ["LEVELS", "GroupLevel", "LevelTable", "Profile", "group_level", "near_repeat",
           "profile_of"]
