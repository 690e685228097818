"""Bad model files: one clear error naming the file and what is wrong."""

from __future__ import annotations

import pytest

from models.runner import DEFAULT_MODEL_PATH, BeatModel, ModelError


def test_missing_file(tmp_path):
    path = tmp_path / "nope.gguf"
    with pytest.raises(ModelError, match=rf"{path}: model file not found"):
        BeatModel.load(path)


def test_not_a_gguf_file(tmp_path):
    path = tmp_path / "notes.gguf"
    path.write_bytes(b"MThd\x00\x00\x00\x06" + b"\x00" * 100)
    with pytest.raises(ModelError, match=rf"{path}: not a GGUF file"):
        BeatModel.load(path)


def test_truncated_file(tiny_model, tmp_path):
    data = tiny_model.read_bytes()
    for cut in (len(data) // 2, 200):
        path = tmp_path / f"cut{cut}.gguf"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelError, match=rf"{path}: .*truncated"):
            BeatModel.load(path)


def test_vocabulary_that_does_not_match_the_codec(tiny_model, tmp_path):
    pytest.importorskip("gguf")
    from codec.features import Bins
    from codec.vocab import Vocabulary
    from models.export import export_gguf, read_gguf_weights

    state, config = read_gguf_weights(tiny_model)
    state["lm_head.weight"] = state["transformer.wte.weight"]
    vocab = Vocabulary.from_genres(["jazz", "rock"])
    path = tmp_path / "badvocab.gguf"
    export_gguf(path, state, config, vocab, Bins.default(), name="bad")
    # rename one codec token in place (same length keeps the file layout)
    data = path.read_bytes()
    assert data.count(b"track:12") == 1
    path.write_bytes(data.replace(b"track:12", b"track:99"))
    with pytest.raises(ModelError, match=rf"{path}: vocabulary does not match the codec"):
        BeatModel.load(path)


def test_a_gguf_of_another_architecture(tmp_path):
    gguf = pytest.importorskip("gguf")
    import numpy as np

    path = tmp_path / "llama.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tensor("x", np.zeros(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(ModelError, match=rf"{path}: architecture is 'llama', expected 'gpt2'"):
        BeatModel.load(path)


def test_the_shipped_model_loads_and_knows_the_groove_genres():
    if not DEFAULT_MODEL_PATH.exists():
        pytest.skip("no shipped model yet")
    assert DEFAULT_MODEL_PATH.stat().st_size <= 40 * 1024 * 1024
    with BeatModel.load(n_threads=1) as m:
        assert {"rock", "funk", "jazz", "hiphop", "latin"} <= set(m.genres)
        assert m.vocab.spare_genres >= 8
        assert "Groove MIDI Dataset" in m.metadata["autobeat.data"]
