"""torch <-> llama.cpp: the exported model computes the same logits."""

from __future__ import annotations

import numpy as np
import pytest

from codec.context import sequence_tokens
from patterns.pattern import Event, GroupParams, Pattern

torch = pytest.importorskip("torch")


def test_llama_cpp_logits_match_torch_within_1e_3(tiny_model, model):
    from models.export import read_gguf_weights
    from models.gpt import GPT, GPTConfig

    state, config = read_gguf_weights(tiny_model)
    gpt = GPT(GPTConfig(**config))
    gpt.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    gpt.eval()
    pattern = Pattern(events=(Event(0, 1, 2, 100), Event(4, 3, -3, 90), Event(0, 5, 0, 70),
                              Event(2, 5, 4, 50), Event(8, 12, 0, 60)))
    ids = model.vocab.ids(sequence_tokens(pattern, 2, GroupParams(genre="rock")))
    assert len(ids) > 20
    llama = model.token_logits([ids])[0]
    with torch.no_grad():
        reference = gpt(torch.tensor([ids]))[0][0].numpy()
    assert llama.shape == reference.shape == (len(ids), len(model.vocab))
    assert np.abs(llama - reference).max() < 1e-3
    assert np.abs(reference).max() > 0.1  # not a trivially zero model


def test_batched_sequences_match_single_ones(model):
    a = model.vocab.ids(["<bos>", "ctx", "/ctx", "genre:rock", "type:beat", "density:mid",
                         "intensity:mid", "group:1", "step:0", "track:1"])
    b = model.vocab.ids(["<bos>", "ctx", "step:4", "track:3", "/ctx", "genre:jazz",
                         "type:beat", "density:low", "intensity:high", "group:4"])
    together = model.token_logits([a, b])
    alone = [model.token_logits([a])[0], model.token_logits([b])[0]]
    for x, y in zip(together, alone, strict=True):
        assert np.abs(x - y).max() < 1e-3
