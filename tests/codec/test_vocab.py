from __future__ import annotations

import pytest

from codec.errors import CodecError
from codec.vocab import VELOCITY_VALUES, Vocabulary, quantize_velocity


def test_velocity_bins_stay_within_two_units():
    assert VELOCITY_VALUES[0] == 3 and VELOCITY_VALUES[-1] == 127 and len(VELOCITY_VALUES) == 32
    assert max(abs(quantize_velocity(v) - v) for v in range(1, 128)) == 2
    with pytest.raises(CodecError, match="velocity must be in 1..127, got 128"):
        quantize_velocity(128)


def test_vocabulary_round_trips_through_its_token_list():
    vocab = Vocabulary.from_genres(["rock", "funk"], spare=4)
    again = Vocabulary.from_tokens(list(vocab.tokens))
    assert again == vocab
    assert vocab.genres == ("funk", "rock")
    assert vocab.spare_genres == 4
    assert vocab.token(vocab.id("step:31")) == "step:31"
    assert len(vocab) == 5 + 6 + 2 + 6 + 4 + 32 + 12 + 96 + 32


def test_spare_slot_takes_a_new_genre_without_moving_ids():
    vocab = Vocabulary.from_genres(["rock"], spare=2)
    trap = vocab.with_genre("trap")
    assert len(trap) == len(vocab)
    assert trap.genres == ("rock", "trap") and trap.spare_genres == 1
    assert all(trap.id(t) == vocab.id(t) for t in vocab.tokens if not t.startswith("genre:_"))
    full = trap.with_genre("house")
    with pytest.raises(CodecError, match="no spare genre slot left for 'techno'"):
        full.with_genre("techno")


def test_unknown_token_and_bad_vocabularies():
    vocab = Vocabulary.from_genres(["rock"])
    with pytest.raises(CodecError, match="unknown token 'genre:polka'"):
        vocab.id("genre:polka")
    with pytest.raises(CodecError, match="lacks"):
        Vocabulary.from_tokens(["<pad>", "end"])
    with pytest.raises(CodecError, match="token id must be in"):
        vocab.token(len(vocab))
