from __future__ import annotations

import numpy as np
import pytest

from codec.errors import CodecError
from codec.grammar import EXPECT_STEP, Echo, GroupGrammar, TokenIds
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


def walk_with_echo(grammar: GroupGrammar, rng: np.random.Generator) -> None:
    """A 'hot' walk as the runner samples: an echo starts where a step leaves bar 1."""
    while not grammar.done:
        allowed = grammar.allowed_ids()
        tok = int(rng.choice(allowed))
        if grammar.wants_echo(tok):
            grammar.start_echo()
            tok = int(rng.choice(grammar.allowed_ids()))
        grammar.advance(tok)


def test_an_echo_repeats_bar_1_in_bar_2_with_the_feel_left_free():
    rng = np.random.default_rng(3)
    for i in range(300):
        group = i % 4 + 1
        echo = Echo(np.random.default_rng(i), share=1.0, extra=0)
        g = GroupGrammar(IDS, group, min_events=2, max_events=40, budget=250, echo=echo)
        walk_with_echo(g, rng)
        bar1 = {(e.step, e.track) for e in g.events if e.step < 16}
        bar2 = {(e.step - 16, e.track) for e in g.events if e.step >= 16}
        if bar1:
            assert bar2 == bar1  # every cell echoed, nothing added (extra=0)
        assert all(e.group == group for e in g.events)
    # offsets and velocities of the echo are the walk's own, not copies
    echo = Echo(np.random.default_rng(0), share=1.0, extra=0)
    g = GroupGrammar(IDS, 1, min_events=8, max_events=8, budget=250, echo=echo)
    walk_with_echo(g, np.random.default_rng(1))
    pairs = {(e.step % 16, e.track): [] for e in g.events}
    for e in g.events:
        pairs[(e.step % 16, e.track)].append((e.offset, e.velocity))
    assert any(len(v) == 2 and v[0] != v[1] for v in pairs.values())


def test_an_echo_keeps_a_share_and_leaves_room_for_a_variation():
    kept = total = added = 0
    for i in range(200):
        echo = Echo(np.random.default_rng(i), share=0.5, extra=2)
        g = GroupGrammar(IDS, 1, min_events=4, max_events=30, budget=250, echo=echo)
        walk_with_echo(g, np.random.default_rng(1000 + i))
        bar1 = {(e.step, e.track) for e in g.events if e.step < 16}
        bar2 = {(e.step - 16, e.track) for e in g.events if e.step >= 16}
        total += len(bar1)
        kept += len(bar1 & bar2)
        added += len(bar2 - bar1)
        if bar1 and len(g.events) > 4:  # an echo, not topped up to min_events
            assert len(bar2 - bar1) <= 2
    assert 0.4 < kept / total < 0.7 and added > 0
