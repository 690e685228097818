"""The baseline of eval: interpolated Kneser-Ney n-gram models (n = 1..5) on group sequences.

Trained on the group sequences (header .. end) of a split; scores the tokens
after the header (the events and ``end``: what the beat model writes), with the
header as history. ``best_nll`` reports the best order on the scored sequences.
Plain Python dicts: a few seconds a million tokens.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from codec.tokens import HEADER_KEYS

BOS_MARK = "<s>"


class KneserNey:
    """Interpolated Kneser-Ney of order n with one discount per order."""

    def __init__(self, order: int, vocab_size: int, discount: float = 0.75):
        if not 1 <= order <= 5:
            raise ValueError(f"order must be in 1..5, got {order}")
        self.n = order
        self.vocab_size = vocab_size
        self.d = discount
        # per order k (1..n): counts[k][(ctx, w)], and per context: total and distinct followers
        self.counts: list[dict] = [defaultdict(int) for _ in range(order + 1)]
        self.ctx_total: list[dict] = [defaultdict(int) for _ in range(order + 1)]
        self.ctx_types: list[dict] = [defaultdict(int) for _ in range(order + 1)]

    def fit(self, sequences: Iterable[Sequence[str]]) -> KneserNey:
        n = self.n
        top = self.counts[n]
        for seq in sequences:
            padded = [BOS_MARK] * (n - 1) + list(seq)
            for i in range(n - 1, len(padded)):
                top[tuple(padded[i - n + 1 : i + 1])] += 1
        # lower orders: continuation counts (distinct left extensions)
        for k in range(n, 1, -1):
            lower = self.counts[k - 1]
            for gram in self.counts[k]:
                lower[gram[1:]] += 1
        for k in range(1, n + 1):
            total, types = self.ctx_total[k], self.ctx_types[k]
            for gram, c in self.counts[k].items():
                total[gram[:-1]] += c
                types[gram[:-1]] += 1
        return self

    def prob(self, history: Sequence[str], word: str) -> float:
        p = 1.0 / self.vocab_size
        for k in range(1, self.n + 1):
            ctx = tuple(history[len(history) - (k - 1) :]) if k > 1 else ()
            total = self.ctx_total[k].get(ctx, 0)
            if total == 0:
                continue
            c = self.counts[k].get(ctx + (word,), 0)
            types = self.ctx_types[k][ctx]
            p = max(c - self.d, 0.0) / total + self.d * types / total * p
        return p

    def nll(
        self, sequences: Iterable[Sequence[str]], skip: int = len(HEADER_KEYS)
    ) -> tuple[float, int]:
        """Total negative log-likelihood (nats) and token count, scoring tokens from ``skip``."""
        total, count = 0.0, 0
        for seq in sequences:
            padded = [BOS_MARK] * (self.n - 1) + list(seq)
            for i in range(self.n - 1 + skip, len(padded)):
                total -= math.log(self.prob(padded[i - self.n + 1 : i], padded[i]))
                count += 1
        return total, count


def best_nll(train: Sequence[Sequence[str]], test: Sequence[Sequence[str]], vocab_size: int,
             orders: Iterable[int] = (1, 2, 3, 4, 5)) -> tuple[float, int, dict[int, float]]:
    """(best nll per token, its order, nll per token of every order)."""
    per_order = {}
    for n in orders:
        model = KneserNey(n, vocab_size).fit(train)
        total, count = model.nll(test)
        per_order[n] = total / max(1, count)
    best = min(per_order, key=per_order.get)
    return per_order[best], best, per_order
