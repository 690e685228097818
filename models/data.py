"""Training examples as token ids, built once from the codec's corpus windows.

Each window keeps, per group, the ids of its own sequence (header .. end) and
the (step, track) ids of all its events; an example for (window, group) is
``<bos> ctx <pairs of the chosen other groups> /ctx <group sequence>`` exactly as
``codec.context`` writes it. Which other groups go into the context is drawn per
example in training (some dropped, sometimes all), and is "all" for validation.

numpy only: building a batch costs a few microseconds per example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from codec.context import MAX_CONTEXT_EVENTS, MAX_TOKENS
from codec.dataset import Corpus
from codec.tokens import HEADER_KEYS, encode
from codec.vocab import BOS, CTX, CTX_END, PAD, Vocabulary
from patterns.grid import GROUPS


@dataclass
class EncodedWindow:
    bodies: list[np.ndarray]  # per group (index 0..3): header .. end ids
    pair_ids: np.ndarray  # (n_events, 2): step id, track id, in time order
    pair_groups: np.ndarray  # (n_events,): group of each event


@dataclass
class EncodedSplit:
    windows: list[EncodedWindow]

    def __len__(self) -> int:
        return len(self.windows) * len(GROUPS)


def encode_corpus(corpus: Corpus, split: str, vocab: Vocabulary) -> EncodedSplit:
    """Every window of a split, as ids."""
    out = []
    for cw in corpus.windows.get(split, []):
        pattern = corpus.labelled(cw)
        bodies = [np.array(vocab.ids(encode(pattern, g.number)), dtype=np.int64) for g in GROUPS]
        events = pattern.events
        pairs = np.array(
            [[vocab.id(f"step:{e.step}"), vocab.id(f"track:{e.track}")] for e in events],
            dtype=np.int64,
        ).reshape(-1, 2)
        groups = np.array([e.group for e in events], dtype=np.int64)
        out.append(EncodedWindow(bodies, pairs, groups))
    return EncodedSplit(out)


class Examples:
    """Turns (window, group, context groups) into id sequences and padded batches."""

    def __init__(self, vocab: Vocabulary, block_size: int = MAX_TOKENS):
        self.bos, self.ctx, self.ctx_end = vocab.id(BOS), vocab.id(CTX), vocab.id(CTX_END)
        self.pad = vocab.id(PAD)
        self.block_size = block_size

    def sequence(
        self, w: EncodedWindow, group: int, include: Sequence[int]
    ) -> tuple[np.ndarray, int]:
        """The ids and the index of the first event token (where the loss starts)."""
        keep = np.isin(w.pair_groups, [g for g in include if g != group])
        pairs = w.pair_ids[keep][:MAX_CONTEXT_EVENTS].reshape(-1)
        body = w.bodies[group - 1]
        seq = np.concatenate([[self.bos, self.ctx], pairs, [self.ctx_end], body])
        start = 3 + len(pairs) + len(HEADER_KEYS)
        if len(seq) > self.block_size:  # never in the Groove data; cut, keeping the end
            seq = seq[: self.block_size]
        return seq, start

    def batch(self, items: Sequence[tuple[np.ndarray, int]]) -> tuple[np.ndarray, ...]:
        """(x, y, mask): inputs, next-token targets and the loss mask, padded to the longest."""
        T = max(len(s) for s, _ in items) - 1
        x = np.full((len(items), T), self.pad, dtype=np.int64)
        y = np.full((len(items), T), self.pad, dtype=np.int64)
        m = np.zeros((len(items), T), dtype=bool)
        for i, (s, start) in enumerate(items):
            n = len(s) - 1
            x[i, :n] = s[:-1]
            y[i, :n] = s[1:]
            m[i, start - 1 : n] = True  # predict the first event token .. end
        return x, y, m


def draw_context(rng: np.random.Generator, group: int) -> list[int]:
    """Which other groups a training example sees: all (55%), none (20%), or some."""
    others = [g.number for g in GROUPS if g.number != group]
    r = rng.random()
    if r < 0.55:
        return others
    if r < 0.75:
        return []
    return [g for g in others if rng.random() < 0.5]


def token_batches(
    split: EncodedSplit,
    examples: Examples,
    rng: np.random.Generator,
    tokens_per_batch: int,
    pool: int = 64,
):
    """Endless batches of about ``tokens_per_batch`` tokens (padding included).

    Draws ``pool`` batches' worth of random examples, sorts them by length so a
    batch wastes little on padding, and yields the batches in random order.
    """
    n = len(split)
    while True:
        picks = rng.integers(0, n, size=pool * max(1, tokens_per_batch // 100))
        items = []
        for k in picks:
            w = split.windows[int(k) // 4]
            g = int(k) % 4 + 1
            items.append(examples.sequence(w, g, draw_context(rng, g)))
        items.sort(key=lambda it: len(it[0]))
        batches, cur, longest = [], [], 0
        for it in items:
            longest2 = max(longest, len(it[0]))
            if cur and longest2 * (len(cur) + 1) > tokens_per_batch:
                batches.append(cur)
                cur, longest2 = [], len(it[0])
            cur.append(it)
            longest = longest2
        if cur:
            batches.append(cur)
        for i in rng.permutation(len(batches)):
            yield examples.batch(batches[i])


def validation_items(split: EncodedSplit, examples: Examples, limit: int | None = None,
                     seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """Every (or ``limit`` random) sequences of a split, each with its full context."""
    keys = list(range(len(split)))
    if limit is not None and limit < len(keys):
        keys = sorted(np.random.default_rng(seed).choice(len(keys), size=limit, replace=False))
    items = []
    for k in keys:
        w = split.windows[k // 4]
        g = k % 4 + 1
        items.append(examples.sequence(w, g, [x.number for x in GROUPS]))
    return items
