from __future__ import annotations

import numpy as np
import pytest

from codec.errors import CodecError
from codec.grammar import EXPECT_STEP, GroupGrammar, TokenIds
from codec.tokens import decode, header_tokens
from codec.vocab import Vocabulary
from patterns.grid import GROUPS
from patterns.pattern import Event, GroupParams

VOCAB = Vocabulary.from_genres(["funk", "rock"])
IDS = TokenIds(VOCAB)


def walk(grammar: GroupGrammar, rng: np.random.Generator, end_bias: float = 0.05) -> list[str]:
    """Sample uniformly among the allowed ids (a maximally 'hot' model)."""
    out = []
    while not grammar.done:
        allowed = grammar.allowed_ids()
        assert len(allowed) > 0
        if IDS.end in allowed and rng.random() < end_bias:
            tok = IDS.end
        else:
            tok = int(rng.choice(allowed))
        grammar.advance(tok)
        out.append(VOCAB.token(tok))
    return out


def test_thousands_of_random_walks_all_decode_inside_their_group():
    rng = np.random.default_rng(0)
    for i in range(2000):
        group = i % 4 + 1
        lo = int(rng.integers(0, 10))
        hi = lo + int(rng.integers(0, 20))
        g = GroupGrammar(IDS, group, min_events=lo, max_events=hi, budget=200)
        toks = walk(g, rng)
        decoded = decode(header_tokens(GroupParams(genre="funk"), group) + toks, strict=True)
        assert all(e.group == group for e in decoded.events)
        assert lo <= len(decoded.events) <= hi
        assert len(toks) <= 200
        assert list(decoded.events) == [
            Event(e.step, e.track, e.offset, e.velocity) for e in g.events
        ]


def test_budget_forces_the_end():
    rng = np.random.default_rng(1)
    for budget in (1, 2, 5, 9, 13, 40):
        g = GroupGrammar(IDS, 1, min_events=100, budget=budget)
        toks = walk(g, rng, end_bias=0.0)
        assert len(toks) <= budget
        assert toks[-1] == "end"


def test_end_only_after_min_events_and_no_step_after_max():
    g = GroupGrammar(IDS, 2, min_events=2, max_events=2)
    assert IDS.end not in g.allowed_ids()
    for tok in ("step:0", "track:5", "offset:0", "velocity:99", "step:0", "track:7",
                "offset:3", "velocity:3"):
        g.advance(VOCAB.id(tok))
    assert g.allowed_ids().tolist() == [IDS.end]


def test_kept_events_appear_exactly_and_block_the_end():
    keep = [Event(4, 3, -5, 101), Event(12, 1, 7, 64)]
    rng = np.random.default_rng(2)
    for _ in range(300):
        g = GroupGrammar(IDS, 1, keep=keep, max_events=int(rng.integers(2, 12)))
        walk(g, rng)
        kept = [e for e in g.events if (e.step, e.track) in {(4, 3), (12, 1)}]
        assert kept == keep  # same objects: the exact velocity survives


def test_kept_events_when_the_count_is_exact():
    keep = [Event(30, 4, 0, 50)]
    g = GroupGrammar(IDS, 1, keep=keep, min_events=1, max_events=1)
    assert g.allowed_ids().tolist() == [IDS.step[30]]


def test_no_step_left_means_end():
    g = GroupGrammar(IDS, 4)
    for tok in ("step:31", "track:12", "offset:0", "velocity:99"):
        g.advance(VOCAB.id(tok))
    assert g.allowed_ids().tolist() == [IDS.end]


def test_disallowed_tokens_raise():
    g = GroupGrammar(IDS, 3)
    with pytest.raises(CodecError, match="not allowed"):
        g.advance(VOCAB.id("track:8"))
    g.advance(VOCAB.id("step:3"))
    with pytest.raises(CodecError, match="not allowed"):
        g.advance(VOCAB.id("track:1"))  # not a tom
    with pytest.raises(CodecError, match="not in group 2"):
        GroupGrammar(IDS, 2, keep=[Event(0, 1)])


def test_masks_match_allowed_ids():
    g = GroupGrammar(IDS, 2)
    m = g.mask()
    assert m.sum() == len(g.allowed_ids()) == 33
    assert set(np.flatnonzero(m)) == set(g.allowed_ids().tolist())
    assert len(GROUPS) == 4


def test_the_quick_step_rule_agrees_with_the_full_rule_on_every_step():
    """_open_steps checks only the two edge steps in full; the rest by counting room."""
    rng = np.random.default_rng(5)
    checked = 0
    for i in range(400):
        group = i % 4 + 1
        lo = int(rng.integers(0, 40))
        keep = [Event(int(s), GROUPS[group - 1].tracks[0]) for s in
                sorted(rng.choice(32, size=int(rng.integers(0, 3)), replace=False))]
        g = GroupGrammar(IDS, group, min_events=lo, max_events=lo + int(rng.integers(0, 9)),
                         keep=keep, budget=int(rng.integers(20, 220)))
        while not g.done:
            if g.state == EXPECT_STEP:
                first = max(g._last[0], 0)
                kept = g._next_kept()
                last = kept.step if kept is not None else 31
                for strict in (True, False):
                    full = [s for s in range(first, last + 1) if g._tracks_after(s, strict)]
                    assert g._open_steps(first, last, strict) == full
                    checked += 1
            allowed = g.allowed_ids()
            g.advance(int(rng.choice(allowed)))
    assert checked > 2000
