"""GPT-2 weights -> a GGUF file that llama.cpp runs as architecture ``gpt2``.

What it writes:

- the hyperparameters llama.cpp's gpt2 loader reads (``gpt2.*``);
- the codec's vocabulary as the token list (``tokenizer.ggml.model`` = llama,
  with scores and token types; the runtime feeds ids and never tokenizes text);
- the codec's data in ``autobeat.*`` keys: genres, density/intensity bins (JSON),
  the auto level table (``autobeat.levels``, JSON, ``codec.levels``), grid
  resolution, training data attribution and training figures (JSON);
- the tensors, by the explicit name map below, each shape asserted. F32, or F16
  for the weight matrices (norms, biases and positions stay F32).

Imports the ``gguf`` package (the ``train`` extra), not torch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from codec.features import Bins
from codec.levels import LevelTable
from codec.vocab import BOS, END, PAD, SPECIALS, Vocabulary
from patterns.files import atomic_path, check_user_file
from patterns.grid import MAX_OFFSET, MIN_OFFSET, STEPS, STEPS_PER_BEAT, TICKS_PER_STEP

ARCH = "gpt2"
FORMAT_VERSION = 1
DATA_ATTRIBUTION = (
    "Trained on the Groove MIDI Dataset (Gillick, Roberts, Engel, Eck, Bamman: "
    "'Learning to Groove with Inverse Sequence Transformations', ICML 2019), "
    "https://magenta.tensorflow.org/datasets/groove, licensed CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/)."
)

# GGUF name -> torch state-dict name ({i}: the block number)
GLOBAL_TENSORS = {
    "token_embd.weight": "transformer.wte.weight",
    "position_embd.weight": "transformer.wpe.weight",
    "output_norm.weight": "transformer.ln_f.weight",
    "output_norm.bias": "transformer.ln_f.bias",
    "output.weight": "lm_head.weight",
}
BLOCK_TENSORS = {
    "blk.{i}.attn_norm.weight": "transformer.h.{i}.ln_1.weight",
    "blk.{i}.attn_norm.bias": "transformer.h.{i}.ln_1.bias",
    "blk.{i}.attn_qkv.weight": "transformer.h.{i}.attn.c_attn.weight",
    "blk.{i}.attn_qkv.bias": "transformer.h.{i}.attn.c_attn.bias",
    "blk.{i}.attn_output.weight": "transformer.h.{i}.attn.c_proj.weight",
    "blk.{i}.attn_output.bias": "transformer.h.{i}.attn.c_proj.bias",
    "blk.{i}.ffn_norm.weight": "transformer.h.{i}.ln_2.weight",
    "blk.{i}.ffn_norm.bias": "transformer.h.{i}.ln_2.bias",
    "blk.{i}.ffn_up.weight": "transformer.h.{i}.mlp.c_fc.weight",
    "blk.{i}.ffn_up.bias": "transformer.h.{i}.mlp.c_fc.bias",
    "blk.{i}.ffn_down.weight": "transformer.h.{i}.mlp.c_proj.weight",
    "blk.{i}.ffn_down.bias": "transformer.h.{i}.mlp.c_proj.bias",
}


def tensor_map(n_layer: int) -> dict[str, str]:
    names = dict(GLOBAL_TENSORS)
    for i in range(n_layer):
        names.update({k.format(i=i): v.format(i=i) for k, v in BLOCK_TENSORS.items()})
    return names


def expected_shapes(config: Mapping) -> dict[str, tuple[int, ...]]:
    """Torch-layout shapes of every tensor, by GGUF name."""
    V, T, E = config["vocab_size"], config["block_size"], config["n_embd"]
    shapes = {
        "token_embd.weight": (V, E),
        "position_embd.weight": (T, E),
        "output_norm.weight": (E,),
        "output_norm.bias": (E,),
        "output.weight": (V, E),
    }
    per_block = {
        "attn_norm.weight": (E,), "attn_norm.bias": (E,),
        "attn_qkv.weight": (3 * E, E), "attn_qkv.bias": (3 * E,),
        "attn_output.weight": (E, E), "attn_output.bias": (E,),
        "ffn_norm.weight": (E,), "ffn_norm.bias": (E,),
        "ffn_up.weight": (4 * E, E), "ffn_up.bias": (4 * E,),
        "ffn_down.weight": (E, 4 * E), "ffn_down.bias": (E,),
    }
    for i in range(config["n_layer"]):
        shapes.update({f"blk.{i}.{k}": v for k, v in per_block.items()})
    return shapes


def export_gguf(
    path: str | Path,
    state: Mapping[str, np.ndarray],
    config: Mapping,
    vocab: Vocabulary,
    bins: Bins,
    *,
    name: str,
    f16: bool = False,
    figures: Mapping | None = None,
    training: Mapping | None = None,
    levels: LevelTable | None = None,
) -> Path:
    """Write the GGUF file through the project's atomic writer (patterns.files): a temp
    file, fsync, a rename; a failed export leaves the old model as it was.

    Raises:
        FileError: the file cannot be written there (the old one is untouched).
    """
    path = Path(path)
    if config["vocab_size"] != len(vocab):
        raise ValueError(f"model vocab_size {config['vocab_size']} != vocabulary {len(vocab)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, what="model") as tmp:
        _write_gguf(tmp, state, config, vocab, bins, name=name, f16=f16, figures=figures,
                    training=training, levels=levels)
    return path


def _write_gguf(
    tmp: Path,
    state: Mapping[str, np.ndarray],
    config: Mapping,
    vocab: Vocabulary,
    bins: Bins,
    *,
    name: str,
    f16: bool,
    figures: Mapping | None,
    training: Mapping | None,
    levels: LevelTable | None,
) -> None:
    import gguf

    w = gguf.GGUFWriter(str(tmp), ARCH)
    w.add_name(name)
    w.add_description("AutoBeat TUI beat model: GPT-2 over the codec's grid tokens")
    w.add_license("CC-BY-4.0 (training data: Groove MIDI Dataset)")
    w.add_context_length(config["block_size"])
    w.add_embedding_length(config["n_embd"])
    w.add_feed_forward_length(4 * config["n_embd"])
    w.add_block_count(config["n_layer"])
    w.add_head_count(config["n_head"])
    w.add_layer_norm_eps(config.get("layer_norm_eps", 1e-5))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)

    # the vocabulary: ids are the codec's ids
    w.add_tokenizer_model("llama")
    w.add_token_list(list(vocab.tokens))
    w.add_token_scores([0.0] * len(vocab))
    types = [
        gguf.TokenType.CONTROL if t in SPECIALS else gguf.TokenType.NORMAL for t in vocab.tokens
    ]
    w.add_token_types(types)
    w.add_bos_token_id(vocab.id(BOS))
    w.add_eos_token_id(vocab.id(END))
    w.add_pad_token_id(vocab.id(PAD))
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)

    # the codec's data
    w.add_uint32("autobeat.format_version", FORMAT_VERSION)
    w.add_array("autobeat.genres", list(vocab.genres))
    w.add_string("autobeat.bins", bins.to_json())
    if levels is not None:
        w.add_string("autobeat.levels", levels.to_json())
    w.add_uint32("autobeat.grid.steps", STEPS)
    w.add_uint32("autobeat.grid.steps_per_beat", STEPS_PER_BEAT)
    w.add_uint32("autobeat.grid.ticks_per_step", TICKS_PER_STEP)
    w.add_int32("autobeat.grid.min_offset", MIN_OFFSET)
    w.add_int32("autobeat.grid.max_offset", MAX_OFFSET)
    w.add_string("autobeat.data", DATA_ATTRIBUTION)
    w.add_string("autobeat.training", json.dumps(dict(training or {}), sort_keys=True))
    w.add_string("autobeat.figures", json.dumps(dict(figures or {}), sort_keys=True))

    shapes = expected_shapes(config)
    for gguf_name, torch_name in tensor_map(config["n_layer"]).items():
        t = np.asarray(state[torch_name], dtype=np.float32)
        assert t.shape == shapes[gguf_name], f"{gguf_name}: {t.shape} != {shapes[gguf_name]}"
        if f16 and t.ndim == 2 and gguf_name != "position_embd.weight":
            t = t.astype(np.float16)
        w.add_tensor(gguf_name, np.ascontiguousarray(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_gguf_weights(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The weights (torch names, F32) and the config of a GGUF this module wrote."""
    import gguf

    check_user_file(path, "model")  # a FIFO or a device is refused, not mapped
    reader = gguf.GGUFReader(str(path))

    def field(key):
        f = reader.fields[key]
        return f.parts[f.data[0]].tolist()[0]

    config = {
        "block_size": int(field("gpt2.context_length")),
        "n_embd": int(field("gpt2.embedding_length")),
        "n_layer": int(field("gpt2.block_count")),
        "n_head": int(field("gpt2.attention.head_count")),
        "layer_norm_eps": float(field("gpt2.attention.layer_norm_epsilon")),
    }
    tensors = {t.name: t for t in reader.tensors}
    config["vocab_size"] = int(tensors["token_embd.weight"].shape[-1])
    shapes = expected_shapes(config)
    state = {}
    for gguf_name, torch_name in tensor_map(config["n_layer"]).items():
        t = tensors[gguf_name]
        arr = np.array(t.data, dtype=np.float32).reshape(shapes[gguf_name])
        state[torch_name] = arr
    return state, config


def rewrite_gguf(src: str | Path, dst: str | Path, *, levels: LevelTable | None = None,
                 figures: Mapping | None = None) -> Path:
    """The same model (weights bit for bit) with a new level table and/or figures."""
    from models.runner import BeatModel

    state, config = read_gguf_weights(src)
    model = BeatModel.load(src, n_threads=1)
    try:
        meta = model.metadata
        old_levels = model.levels
        f16 = meta.get("general.file_type") == 1

        def loads(key: str) -> dict:
            try:
                return json.loads(meta.get(key) or "{}")
            except ValueError:
                return {}

        return export_gguf(dst, state, config, model.vocab, model.bins,
                           name=str(meta.get("general.name") or Path(dst).stem), f16=f16,
                           figures=loads("autobeat.figures") if figures is None else figures,
                           training=loads("autobeat.training"),
                           levels=old_levels if levels is None else levels)
    finally:
        model.close()
