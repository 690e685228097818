from __future__ import annotations

import math

import numpy as np
import pytest

from models.evaluate import FEATURES, group_features, overlap_area
from models.ngram import KneserNey, best_nll
from patterns.pattern import Event


def test_kneser_ney_is_a_distribution():
    seqs = [["a", "b", "c", "end"], ["a", "b", "b", "end"], ["c", "a", "end"]]
    vocab = ["a", "b", "c", "end", "x"]
    for n in (1, 2, 3, 5):
        lm = KneserNey(n, len(vocab)).fit(seqs)
        for history in ([], ["a"], ["a", "b"], ["x", "x"]):
            total = sum(lm.prob(history, w) for w in vocab)
            assert total == pytest.approx(1.0, abs=1e-9)
    lm = KneserNey(3, len(vocab)).fit(seqs)
    assert lm.prob(["a"], "b") > lm.prob(["a"], "c")


def test_best_nll_prefers_the_order_that_fits():
    # the token after a header depends on two tokens back: a trigram wins over a unigram
    train = [["g", "t", "d", "i", "h", x, y, x, y, x, y, "end"]
             for x, y in (("p", "q"), ("r", "s"))] * 20
    nll, order, per_order = best_nll(train, train[:2], vocab_size=12)
    assert order >= 2
    assert per_order[1] > per_order[order] == nll
    with pytest.raises(ValueError, match="order must be in 1..5, got 6"):
        KneserNey(6, 3)


def test_overlap_area():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 500)
    assert overlap_area(a, a) == pytest.approx(1.0, abs=1e-3)
    assert overlap_area(a, a + 100) < 0.01
    assert 0.3 < overlap_area(a, a + 1) < 0.8
    assert overlap_area([3.0, 3.0], [3.0]) == 1.0
    assert math.isnan(overlap_area([], [1.0]))


def test_group_features():
    events = [Event(0, 5, 0, 100), Event(2, 5, 4, 60), Event(3, 7, -4, 80), Event(3, 6, 0, 80)]
    f = group_features(sorted(events))
    assert set(f) == set(FEATURES)
    assert f["events"] == 4.0
    assert f["off_beat"] == 0.75
    assert f["syncopation"] == 0.5
    assert f["offset_mean"] == 0.0
    assert f["velocity_mean"] == 80.0
    assert f["distinct_steps"] == 3.0
    empty = group_features([])
    assert empty["events"] == 0.0 and empty["velocity_mean"] is None
