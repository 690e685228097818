"""Would a drummer recognise the genre? A listener trained on real beats judges.

A multinomial logistic regression (NumPy) learns the genres from real 2-bar beats
of the Groove data: where on the 12 x 32 grid the hits fall and how loud. It is
fitted on 80 % of the files (whole files, so no beat it is tested on is a near
copy of one it learnt) and tested on the other 20 %: how often it names a real
beat's genre (`real_recall`) is the ceiling; how often it names the asked genre
of beats the model wrote (`generated_recall`) is what a new beat earns. A model
whose beats are as recognisable as real ones scores the same; chance is 1/genres.

Used by `autobeat eval --genre-check N` (N beats a genre). Imports no torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from codec.dataset import Corpus
from patterns.grid import STEPS, TRACKS
from patterns.pattern import Pattern

MIN_WINDOWS = 500  # genres with fewer real beats are left out: too few to learn from
FEATURES = 2 * len(TRACKS) * STEPS


def beat_features(pattern: Pattern) -> np.ndarray:
    """Hits and their loudness on the 12 x 32 grid, one vector."""
    x = np.zeros((2, len(TRACKS), STEPS), dtype=np.float32)
    for e in pattern.events:
        x[0, e.track - 1, e.step] = 1.0
        x[1, e.track - 1, e.step] = e.velocity / 127.0
    return x.reshape(-1)


@dataclass
class GenreClassifier:
    genres: tuple[str, ...]
    weights: np.ndarray  # (FEATURES + 1, genres)

    @classmethod
    def fit(cls, x: np.ndarray, labels: np.ndarray, genres: Sequence[str], steps: int = 400,
            l2: float = 1e-3, lr: float = 0.05, seed: int = 0) -> GenreClassifier:
        """Softmax regression, classes weighted equally (rock must not drown the rest)."""
        rng = np.random.default_rng(seed)
        k = len(genres)
        xb = np.hstack([x, np.ones((len(x), 1), dtype=np.float32)])
        w = rng.normal(0, 0.01, (xb.shape[1], k)).astype(np.float32)
        counts = np.bincount(labels, minlength=k).astype(np.float32)
        sample_w = (len(labels) / (k * counts))[labels]
        onehot = np.eye(k, dtype=np.float32)[labels]
        m = np.zeros_like(w)
        v = np.zeros_like(w)
        for t in range(1, steps + 1):  # Adam, full batch
            z = xb @ w
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            grad = xb.T @ ((p - onehot) * sample_w[:, None]) / len(xb) + l2 * w
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            w -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        return cls(tuple(genres), w)

    def predict(self, x: np.ndarray) -> np.ndarray:
        xb = np.hstack([x, np.ones((len(x), 1), dtype=np.float32)])
        return np.argmax(xb @ self.weights, axis=1)


def _beats(corpus: Corpus) -> list:
    return [cw for ws in corpus.windows.values() for cw in ws if cw.source.type == "beat"]


def split_by_file(corpus: Corpus, seed: int = 0, share: float = 0.2,
                  min_windows: int = MIN_WINDOWS):
    """(genres, fit windows, test windows): whole files held out, in every genre.

    Genres with fewer than `min_windows` beats, or fewer than 2 files, are left out.
    """
    by_genre: dict[str, list] = {}
    for cw in _beats(corpus):
        by_genre.setdefault(cw.source.genre, []).append(cw)
    rng = np.random.default_rng(seed)
    genres, fit, test = [], [], []
    for g in sorted(by_genre):
        windows = by_genre[g]
        files = sorted({str(cw.source.path) for cw in windows})
        if len(windows) < min_windows or len(files) < 2:
            continue
        held = set(rng.choice(files, size=max(1, round(share * len(files))),
                              replace=False).tolist())
        genres.append(g)
        fit += [cw for cw in windows if str(cw.source.path) not in held]
        test += [cw for cw in windows if str(cw.source.path) in held]
    return tuple(genres), fit, test


def genre_recognition(
    corpus: Corpus,
    generate: Callable[[Pattern, int], Pattern],
    per_genre: int,
    seed: int = 0,
    say: Callable[[str], None] = lambda _m: None,
    min_windows: int = MIN_WINDOWS,
) -> dict:
    """Real and generated beats' recall under a classifier fitted on real beats.

    `generate(real_pattern, seed)` writes a new beat with the real pattern's
    headers (genre, type, density and intensity of each group), from nothing.
    """
    genres, fit, test = split_by_file(corpus, seed, min_windows=min_windows)
    if len(genres) < 2:
        raise ValueError(f"genre check: needs 2 genres with {min_windows}+ beats from 2+ "
                         f"files each, found {len(genres)}")
    index = {g: i for i, g in enumerate(genres)}
    say(f"genre check: fitting a listener on {len(fit)} real beats of {len(genres)} genres")
    x = np.stack([beat_features(corpus.labelled(cw)) for cw in fit])
    y = np.array([index[cw.source.genre] for cw in fit])
    clf = GenreClassifier.fit(x, y, genres, seed=seed)
    rng = np.random.default_rng(seed)
    by_genre: dict[str, dict[str, float]] = {}
    for g in genres:
        real = [cw for cw in test if cw.source.genre == g]
        xr = np.stack([beat_features(corpus.labelled(cw)) for cw in real])
        real_recall = float(np.mean(clf.predict(xr) == index[g]))
        picks = rng.choice(len(real), size=per_genre, replace=per_genre > len(real))
        say(f"genre check: {per_genre} {g} beats")
        made = [generate(corpus.labelled(real[int(i)]), seed * 7919 + n)
                for n, i in enumerate(picks)]
        xg = np.stack([beat_features(p) for p in made])
        gen_recall = float(np.mean(clf.predict(xg) == index[g]))
        by_genre[g] = {"real": round(real_recall, 3), "generated": round(gen_recall, 3),
                       "real_beats": len(real)}
    return {
        "genres": list(genres),
        "chance": round(1 / len(genres), 3),
        "real_recall": round(float(np.mean([v["real"] for v in by_genre.values()])), 3),
        "generated_recall": round(float(np.mean([v["generated"] for v in by_genre.values()])), 3),
        "beats_per_genre": per_genre,
        "by_genre": by_genre,
    }
