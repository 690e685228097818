"""The vocabulary: every token the model reads and writes, and its id.

Layout (ids in this order, so a vocabulary is rebuilt from its token list alone):

    <pad> <bos> end ctx /ctx                       specials
    genre:NAME ...  genre:_spare0 ...              known genres, then spare slots
    type:beat type:fill
    density:low|mid|high  intensity:low|mid|high
    group:1..4  step:0..31  track:1..12
    offset:-48..47   (ticks of 1/96 step)
    velocity:3,7,..,127  (32 bins of 4 velocity units, each written as its centre)

Spare genre slots let a fine-tuned model learn a user's own genres (trap, house,
...) without changing the network: the slot is renamed in the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from codec.errors import CodecError
from patterns.grid import GROUPS, MAX_OFFSET, MIN_OFFSET, STEPS, TRACKS
from patterns.pattern import LEVELS, TYPES

PAD, BOS, END, CTX, CTX_END = "<pad>", "<bos>", "end", "ctx", "/ctx"
SPECIALS = (PAD, BOS, END, CTX, CTX_END)
SPARE_PREFIX = "_spare"
VELOCITY_BIN = 4  # velocity units per bin: the round trip is within 2 units
VELOCITY_BINS = 128 // VELOCITY_BIN  # 32
DEFAULT_SPARE_GENRES = 16


def quantize_velocity(velocity: int) -> int:
    """The centre of the velocity's bin: 1..4 -> 3, 5..8 -> 7, ..., 125..127 -> 127."""
    if not 1 <= velocity <= 127:
        raise CodecError(f"velocity must be in 1..127, got {velocity}")
    return min(127, ((velocity - 1) // VELOCITY_BIN) * VELOCITY_BIN + VELOCITY_BIN - 1)


VELOCITY_VALUES = tuple(quantize_velocity(v) for v in range(1, 128, VELOCITY_BIN))


def _fixed_tokens() -> list[str]:
    tokens = [f"type:{t}" for t in TYPES]
    tokens += [f"density:{x}" for x in LEVELS]
    tokens += [f"intensity:{x}" for x in LEVELS]
    tokens += [f"group:{g.number}" for g in GROUPS]
    tokens += [f"step:{s}" for s in range(STEPS)]
    tokens += [f"track:{t.number}" for t in TRACKS]
    tokens += [f"offset:{o}" for o in range(MIN_OFFSET, MAX_OFFSET + 1)]
    tokens += [f"velocity:{v}" for v in VELOCITY_VALUES]
    return tokens


@dataclass(frozen=True)
class Vocabulary:
    """Token strings <-> ids. Build with ``from_genres``; rebuild with ``from_tokens``."""

    tokens: tuple[str, ...]
    _ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = {tok: i for i, tok in enumerate(self.tokens)}
        if len(ids) != len(self.tokens):
            raise CodecError("vocabulary has duplicate tokens")
        object.__setattr__(self, "_ids", ids)
        missing = [t for t in (*SPECIALS, *_fixed_tokens()) if t not in ids]
        if missing:
            raise CodecError(f"vocabulary lacks {len(missing)} codec tokens, e.g. {missing[0]!r}")

    @classmethod
    def from_genres(
        cls, genres: Iterable[str], spare: int = DEFAULT_SPARE_GENRES
    ) -> Vocabulary:
        names = sorted(set(genres))
        for name in names:
            if not name or any(c.isspace() or c == ":" for c in name):
                raise CodecError(f"genre must be one word without ':', got {name!r}")
        genre_tokens = [f"genre:{g}" for g in names]
        genre_tokens += [f"genre:{SPARE_PREFIX}{i}" for i in range(spare)]
        return cls(tuple([*SPECIALS, *genre_tokens, *_fixed_tokens()]))

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> Vocabulary:
        return cls(tuple(tokens))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def id(self, token: str) -> int:
        try:
            return self._ids[token]
        except KeyError:
            raise CodecError(f"unknown token {token!r}") from None

    def ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.id(t) for t in tokens]

    def token(self, index: int) -> str:
        if not 0 <= index < len(self.tokens):
            raise CodecError(f"token id must be in 0..{len(self.tokens) - 1}, got {index}")
        return self.tokens[index]

    @property
    def genres(self) -> tuple[str, ...]:
        """The genres the model knows (spare slots not included)."""
        names = (t[6:] for t in self.tokens if t.startswith("genre:"))
        return tuple(n for n in names if not n.startswith(SPARE_PREFIX))

    @property
    def spare_genres(self) -> int:
        return sum(1 for t in self.tokens if t.startswith(f"genre:{SPARE_PREFIX}"))

    def with_genre(self, genre: str) -> Vocabulary:
        """Give a new genre a spare slot (same size, same ids for everything else)."""
        if f"genre:{genre}" in self._ids:
            return self
        if not genre or any(c.isspace() or c == ":" for c in genre):
            raise CodecError(f"genre must be one word without ':', got {genre!r}")
        for i, tok in enumerate(self.tokens):
            if tok.startswith(f"genre:{SPARE_PREFIX}"):
                tokens = list(self.tokens)
                tokens[i] = f"genre:{genre}"
                return Vocabulary(tuple(tokens))
        raise CodecError(f"no spare genre slot left for {genre!r}")
