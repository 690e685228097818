"""`autobeat eval`: how well a model fits held-out grooves, and how its generations compare.

- ``nll_per_token``: the model's negative log-likelihood (nats) of every group
  sequence of the split, scored on the tokens it writes (events and ``end``),
  with the header and the window's other groups as context (its real task).
- ``ngram_nll_per_token``: the best interpolated Kneser-Ney n-gram (n <= 5)
  trained on the train split of the Groove data, on the same tokens (its
  history is the header: an n-gram cannot see the other groups).
- For N random group sequences of the split: one generation with the same
  header and the same other groups as context, compared with the real one:
  ``valid_rate``, ``density_adherence``, ``intensity_adherence``,
  ``feature_overlap`` (the overlapping area of the two feature distributions,
  Gaussian kernel density estimates as in MGEval) and ``copy_rate``.

No torch: the model runs through llama.cpp.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codec.context import prompt_tokens
from codec.dataset import Corpus, collect
from codec.errors import CodecError
from codec.tokens import HEADER_KEYS, decode, encode, header_tokens
from models.genrecheck import genre_recognition
from models.ngram import best_nll
from models.runner import BeatModel, DecodeProfile
from patterns.files import FileError, write_atomic_text
from patterns.grid import GROUPS, STEPS_PER_BEAT
from patterns.pattern import Event

GROOVE_DATA = Path("../shared/data/groove")
FEATURES = (
    "events",  # events in the group
    "off_beat",  # share of events off the quarter notes (the intensity measure)
    "syncopation",  # share of events on the weak 16ths (odd steps: the "e" and "a")
    "offset_mean",  # mean micro-timing offset (ticks of 1/96 step)
    "offset_spread",  # standard deviation of the offsets
    "velocity_mean",
    "velocity_spread",  # standard deviation of the velocities
    "distinct_steps",  # how many of the 32 steps the group uses
)


def group_features(events: Sequence[Event]) -> dict[str, float | None]:
    """The features of one group (None where a group without events has none)."""
    n = len(events)
    if n == 0:
        return {f: (0.0 if f in ("events", "distinct_steps") else None) for f in FEATURES}
    offsets = np.array([e.offset for e in events], dtype=float)
    velocities = np.array([e.velocity for e in events], dtype=float)
    return {
        "events": float(n),
        "off_beat": sum(1 for e in events if e.step % STEPS_PER_BEAT) / n,
        "syncopation": sum(1 for e in events if e.step % 2) / n,
        "offset_mean": float(offsets.mean()),
        "offset_spread": float(offsets.std()),
        "velocity_mean": float(velocities.mean()),
        "velocity_spread": float(velocities.std()),
        "distinct_steps": float(len({e.step for e in events})),
    }


def overlap_area(a: Sequence[float], b: Sequence[float], points: int = 1024) -> float:
    """The overlapping area (0..1) of two Gaussian KDEs (Scott's bandwidth)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    span = hi - lo
    if span == 0:
        return 1.0

    def bandwidth(x):
        s = x.std() if len(x) > 1 else 0.0
        return max(s * len(x) ** (-1 / 5), span / 200)

    ba, bb = bandwidth(a), bandwidth(b)
    pad = 4 * max(ba, bb)
    grid = np.linspace(lo - pad, hi + pad, points)

    def kde(x, bw):
        z = (grid[:, None] - x[None, :]) / bw
        return np.exp(-0.5 * z * z).sum(axis=1) / (len(x) * bw * math.sqrt(2 * math.pi))

    pa, pb = kde(a, ba), kde(b, bb)
    return float(np.clip(np.trapezoid(np.minimum(pa, pb), grid), 0.0, 1.0))


@dataclass
class EvalOptions:
    data: str
    split: str = "validation"
    samples: int = 600
    seed: int = 0
    ngram_data: str | None = None  # default: ../shared/data/groove (its train split)
    temperature: float = 1.0
    top_p: float = 0.95
    max_nll_sequences: int | None = None  # None: every sequence of the split
    genre_check: int = 0  # new beats a genre for the genre check (models.genrecheck); 0: none


def _windows(corpus: Corpus, split: str):
    if split == "all":
        return [cw for ws in corpus.windows.values() for cw in ws]
    if split not in corpus.windows:
        known = ", ".join(sorted(corpus.windows)) or "none"
        raise ValueError(f"split {split!r} not in the data (splits: {known}, or all)")
    return corpus.windows[split]


def model_nll(
    model: BeatModel, corpus: Corpus, windows, limit: int | None, seed: int
) -> tuple[float, int]:
    """Total nll and token count of the model on every group sequence of the windows."""
    items = []
    for cw in windows:
        pattern = corpus.labelled(cw)
        for g in GROUPS:
            prompt = prompt_tokens(pattern, g.number, pattern.group_params(g.number))
            body = encode(pattern, g.number)[len(HEADER_KEYS) :]
            ids = model.vocab.ids(prompt + body)[: model.block_size]
            items.append((ids, len(prompt)))
    if limit is not None and limit < len(items):
        pick = np.random.default_rng(seed).choice(len(items), size=limit, replace=False)
        items = [items[i] for i in sorted(pick)]
    total, count = 0.0, 0
    for k in range(0, len(items), 4):
        chunk = items[k : k + 4]
        for (ids, start), logits in zip(chunk, model.token_logits([c[0] for c in chunk]),
                                        strict=True):
            z = logits[start - 1 : len(ids) - 1].astype(np.float64)
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            targets = np.array(ids[start:])
            total -= float(logp[np.arange(len(targets)), targets].sum())
            count += len(targets)
    return total, count


def evaluate(model: BeatModel, opts: EvalOptions, log: Callable[[str], None] | None = None) -> dict:
    say = log or (lambda _m: None)
    corpus = collect(opts.data, bins=model.bins)
    windows = _windows(corpus, opts.split)
    if not windows:
        raise ValueError(f"{opts.data}: no usable windows in split {opts.split!r}")
    unknown = sorted({cw.source.genre for cw in windows} - set(model.genres))
    if unknown:
        raise ValueError(f"genres not known to {model.name}: {', '.join(unknown)}")

    # --- likelihood: the model and the n-gram baseline ------------------------------
    say(f"scoring {len(windows) * 4} sequences with {model.name}")
    total, count = model_nll(model, corpus, windows, opts.max_nll_sequences, opts.seed)
    ngram_dir = Path(opts.ngram_data) if opts.ngram_data else GROOVE_DATA
    if ngram_dir.resolve() == Path(opts.data).resolve():
        base = corpus
    else:
        base = collect(ngram_dir, bins=model.bins)
    train_windows = base.windows.get("train") or [cw for ws in base.windows.values() for cw in ws]
    train_seqs = [toks for _cw, _g, toks in _sequences(base, train_windows)]
    test_seqs = [toks for _cw, _g, toks in _sequences(corpus, windows)]
    ngram, order, per_order = cached_ngram(train_seqs, test_seqs, len(model.vocab), say)
    training_bodies = {tuple(t[len(HEADER_KEYS) : -1]) for t in train_seqs}

    # --- generation -----------------------------------------------------------------
    rng = np.random.default_rng(opts.seed)
    n_all = len(windows) * len(GROUPS)
    picks = rng.choice(n_all, size=min(opts.samples, n_all), replace=False)
    real_f: dict[str, list[float]] = {f: [] for f in FEATURES}
    gen_f: dict[str, list[float]] = {f: [] for f in FEATURES}
    valid = dens_ok = int_ok = copies = copy_base = 0
    say(f"generating {len(picks)} groups")
    for i, k in enumerate(picks):
        cw, group = windows[int(k) // 4], int(k) % 4 + 1
        pattern = corpus.labelled(cw)
        params = pattern.group_params(group)
        model.profile = DecodeProfile()
        out = model.generate_group(pattern, group, params, seed=(opts.seed * 100003 + i) % 2**32,
                                   temperature=opts.temperature, top_p=opts.top_p)
        written = [model.vocab.token(t) for t in model.profile.written[-1]]
        model.profile = None
        try:
            decoded = decode(header_tokens(params, group) + written, strict=True)
            valid += 1
        except CodecError:
            decoded = None
        events = decoded.events if decoded else out.group_events(group)
        dens_ok += model.bins.density_level(events, group) == params.density
        int_ok += model.bins.intensity_level(events, group) == params.intensity
        for name, value in group_features(pattern.group_events(group)).items():
            if value is not None:
                real_f[name].append(value)
        for name, value in group_features(events).items():
            if value is not None:
                gen_f[name].append(value)
        if len(events) >= 4:
            copy_base += 1
            copies += tuple(written[:-1]) in training_bodies
    n = len(picks)
    overlap = {f: round(overlap_area(real_f[f], gen_f[f]), 4) for f in FEATURES}
    overlap["mean"] = round(float(np.nanmean([overlap[f] for f in FEATURES])), 4)
    extra = {}
    if opts.genre_check:
        extra["genre_recognition"] = genre_recognition(
            base, lambda real, seed: model.generate_all(
                real.with_events(()), [real.group_params(g.number) for g in GROUPS], seed,
                temperature=opts.temperature, top_p=opts.top_p),
            opts.genre_check, opts.seed, say)
    return {
        "nll_per_token": round(total / max(1, count), 4),
        "ngram_nll_per_token": round(ngram, 4),
        "ngram_order": order,
        "ngram_nll_by_order": {str(k): round(v, 4) for k, v in per_order.items()},
        "valid_rate": round(valid / n, 4),
        "density_adherence": round(dens_ok / n, 4),
        "intensity_adherence": round(int_ok / n, 4),
        "feature_overlap": overlap,
        "copy_rate": round(copies / max(1, copy_base), 4),
        "samples": n,
        "scored_tokens": count,
        "density_enforced": model.enforce_density,
        "model": str(model.path),
        "split": opts.split,
        **extra,
    }


def cached_ngram(train_seqs, test_seqs, vocab_size: int, say: Callable[[str], None]):
    """best_nll, remembered in the user's cache folder by a hash of its inputs."""
    import hashlib
    import json

    import platformdirs

    h = hashlib.sha256(f"v1 {vocab_size}".encode())
    for seqs in (train_seqs, test_seqs):
        h.update(b"\x00")
        for seq in seqs:
            h.update(" ".join(seq).encode() + b"\n")
    path = Path(platformdirs.user_cache_dir("autobeat")) / f"ngram-{h.hexdigest()[:24]}.json"
    try:
        data = json.loads(path.read_text())
        return data["nll"], data["order"], {int(k): v for k, v in data["by_order"].items()}
    except (OSError, ValueError, KeyError):
        pass
    say(f"fitting n-grams on {len(train_seqs)} sequences")
    nll, order, per_order = best_nll(train_seqs, test_seqs, vocab_size)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic_text(path, json.dumps({"nll": nll, "order": order, "by_order": per_order}),
                          what="n-gram cache")
    except (OSError, FileError):  # a cache: no harm done
        pass
    return nll, order, per_order


def _sequences(corpus: Corpus, windows):
    for cw in windows:
        for g in GROUPS:
            yield cw, g.number, encode(cw.window.pattern, g.number, corpus.header(cw, g.number))
