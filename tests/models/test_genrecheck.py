"""The genre check: a listener fitted on real beats, judging real and generated ones."""

from __future__ import annotations

import numpy as np
import pytest

from models.genrecheck import GenreClassifier, beat_features, genre_recognition, split_by_file
from patterns.grid import STEPS
from patterns.pattern import Event, Pattern


def test_beat_features_mark_the_hit_and_its_loudness():
    x = beat_features(Pattern(events=(Event(4, 3, 0, 127), Event(31, 12, 5, 64))))
    grid = x.reshape(2, 12, STEPS)
    assert grid[0, 2, 4] == 1.0 and grid[1, 2, 4] == 1.0
    assert grid[0, 11, 31] == 1.0 and grid[1, 11, 31] == pytest.approx(64 / 127)
    assert grid[0].sum() == 2.0


def _style(rng, backbeat: bool) -> np.ndarray:
    """A backbeat (snare on 2 and 4) or four on the floor (kick every beat), with noise."""
    events = {(s, 5) for s in range(0, 32, 2)}
    if backbeat:
        events |= {(s, 3) for s in (4, 12, 20, 28)} | {(s, 1) for s in (0, 10, 16)}
    else:
        events |= {(s, 1) for s in range(0, 32, 4)} | {(s, 4) for s in (4, 12)}
    events |= {(int(rng.integers(32)), int(rng.integers(1, 13))) for _ in range(6)}
    return beat_features(Pattern(events=tuple(Event(s, t) for s, t in sorted(events))))


def test_the_classifier_tells_two_styles_apart():
    rng = np.random.default_rng(1)
    x = np.stack([_style(rng, i % 2 == 0) for i in range(200)])
    y = np.array([i % 2 for i in range(200)])
    clf = GenreClassifier.fit(x[:150], y[:150], ("rock", "house"), steps=150)
    assert np.mean(clf.predict(x[150:]) == y[150:]) >= 0.95


def test_whole_files_are_held_out_in_every_genre(groove_subset):
    from codec.dataset import collect

    corpus = collect(groove_subset)
    genres, fit, test = split_by_file(corpus, min_windows=5)
    assert genres == ("jazz", "rock")
    fit_files = {cw.source.path for cw in fit}
    test_files = {cw.source.path for cw in test}
    assert fit_files and test_files and not fit_files & test_files
    assert {cw.source.genre for cw in test} == {"jazz", "rock"}


def test_real_beats_score_as_real_and_the_wrong_genre_scores_low(groove_subset):
    from codec.dataset import collect

    corpus = collect(groove_subset)
    same = genre_recognition(corpus, lambda real, seed: real, 40, min_windows=5)
    assert same["genres"] == ["jazz", "rock"] and same["chance"] == 0.5
    for v in same["by_genre"].values():  # the real beats themselves, resampled
        assert abs(v["generated"] - v["real"]) <= 0.25
    # a "model" that answers every request with a beat of the other genre (one the
    # listener learnt from: with 5 files it cannot be expected to generalise far)
    _genres, fit, _test = split_by_file(corpus, min_windows=5)
    other = {g: next(cw for cw in fit if cw.source.genre != g) for g in ("jazz", "rock")}
    wrong = genre_recognition(
        corpus, lambda real, seed: corpus.labelled(other[real.group_params(1).genre]), 40,
        min_windows=5)
    assert wrong["generated_recall"] < same["generated_recall"]
    assert wrong["generated_recall"] <= 0.25
