"""Training: corpus -> GPT-2 -> best checkpoint on validation -> GGUF.

``train(TrainOptions)`` builds the corpus through the codec, trains on the train
split (AdamW, warm-up then cosine decay, token-budget batches sorted by length),
evaluates on validation every ``eval_every`` steps, keeps the best weights,
checkpoints so an interrupted run resumes where it stopped, and exports the best
weights to GGUF. With ``init`` it fine-tunes an existing GGUF model on a plain
folder of .mid files: new genres take spare genre slots of its vocabulary, and
its density/intensity bins are kept so the header means what it meant.

Imports torch (lazily: only this module and models/gpt.py do).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from codec.context import MAX_TOKENS
from codec.dataset import collect
from codec.features import Bins
from codec.levels import LevelTable
from codec.vocab import Vocabulary
from patterns.files import FileError, atomic_file, check_user_file


@dataclass
class TrainOptions:
    data: str
    out: str
    init: str | None = None
    steps: int = 4000
    n_embd: int = 192
    n_layer: int = 4
    n_head: int = 4
    tokens_per_batch: int = 8192
    lr: float = 2e-3
    min_lr: float = 1e-4
    warmup: int = 150
    weight_decay: float = 0.1
    eval_every: int = 250
    eval_sequences: int = 2048
    checkpoint: str | None = None  # default: build/train/<out stem>.pt
    threads: int = 2
    seed: int = 1337
    f16: bool = True
    fresh: bool = False  # ignore an existing checkpoint
    progress: bool = True


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _splits(corpus) -> tuple[str, str | None]:
    if "train" in corpus.windows:
        return "train", "validation" if "validation" in corpus.windows else None
    return "all", None


def _hold_out(corpus, share: float = 0.1) -> None:
    """Split the windows (of a folder without a train split) by file: 'train', 'validation'."""
    ws = [cw for split in list(corpus.windows) for cw in corpus.windows.pop(split)]
    files = sorted({str(cw.source.path) for cw in ws})
    held = set(files[:: max(2, int(round(1 / share)))]) if len(files) > 1 else set()
    corpus.windows["train"] = [cw for cw in ws if str(cw.source.path) not in held]
    corpus.windows["validation"] = [cw for cw in ws if str(cw.source.path) in held]
    if not corpus.windows["validation"]:
        corpus.windows["validation"] = corpus.windows["train"][:: 10] or corpus.windows["train"]


def lr_at(step: int, opts: TrainOptions) -> float:
    if step < opts.warmup:
        return opts.lr * (step + 1) / opts.warmup
    t = min(1.0, (step - opts.warmup) / max(1, opts.steps - opts.warmup))
    return opts.min_lr + 0.5 * (opts.lr - opts.min_lr) * (1 + math.cos(math.pi * t))


def _bar(step: int, total: int, loss: float, val: float | None, started: float, first: int) -> str:
    done = (step - first) / max(1, total - first)
    elapsed = time.monotonic() - started
    left = elapsed / done * (1 - done) if done > 0 else 0.0
    width = 24
    fill = int(width * step / max(1, total))
    v = f" val {val:.4f}" if val is not None else ""
    return (f"\r[{'#' * fill}{'.' * (width - fill)}] {step}/{total} loss {loss:.4f}{v} "
            f"elapsed {elapsed / 60:.1f} min, left {left / 60:.1f} min ")


def level_table(corpus, split: str, bins: Bins, init: str | None = None) -> LevelTable:
    """The auto level table of the training split (merged into the base model's table)."""
    table = LevelTable.from_windows(
        ((cw.source.genre, cw.source.type, cw.window.pattern) for cw in corpus.windows[split]),
        bins)
    if init:
        from models.runner import BeatModel

        base = BeatModel.load(init, n_threads=1)
        try:
            if base.levels is not None:
                table = base.levels.merged(table)
        finally:
            base.close()
    return table


_CHECKPOINT_KEYS = ("config", "vocab", "model", "optimizer", "step", "best_val", "best_state")


def load_checkpoint(path: Path) -> dict:
    """A training checkpoint, read with ``weights_only=True``: a planted file cannot run
    code, only fail to load (ValueError with one line)."""
    import pickle

    import torch

    check_user_file(path, "checkpoint")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError,
            AttributeError, TypeError) as exc:
        text = str(exc).strip()
        if "weights only" in text.lower() or "weights_only" in text:
            first = "it holds more than tensors and numbers"
        else:
            first = text.splitlines()[0][:160] if text else type(exc).__name__
        raise FileError(
            f"{path}: not a checkpoint this program can resume ({first}); "
            "move it away or train with --fresh"
        ) from None
    if not isinstance(ck, dict) or any(k not in ck for k in _CHECKPOINT_KEYS):
        raise FileError(f"{path}: not a training checkpoint; move it away or use --fresh")
    return ck


def train(opts: TrainOptions, log: Callable[[str], None] = _log) -> dict:
    """Run (or resume) a training run; returns its figures."""
    import torch

    from models.data import Examples, encode_corpus, token_batches, validation_items
    from models.export import export_gguf, read_gguf_weights
    from models.gpt import GPT, GPTConfig

    torch.set_num_threads(opts.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))  # under torchrun: DistributedDataParallel
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device("cpu")
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main_rank = rank == 0
    if not main_rank:
        log = lambda _m: None  # noqa: E731 - one voice: rank 0's
    torch.manual_seed(opts.seed)
    started_all = time.monotonic()
    out = Path(opts.out)
    ckpt_path = Path(opts.checkpoint or Path("build/train") / f"{out.stem}.pt")
    ckpt_path.parent.mkdir(parents=True, exist_ok=True)

    # --- data, vocabulary, bins ---------------------------------------------------
    base_state = base_config = None
    bins: Bins | None = None
    if opts.init:
        from models.runner import BeatModel

        base = BeatModel.load(opts.init, n_threads=1)
        vocab, bins = base.vocab, base.bins
        base.close()
        base_state, base_config = read_gguf_weights(opts.init)
    corpus = collect(opts.data, bins=bins)
    if not corpus.windows:
        raise ValueError(f"{opts.data}: no usable 2-bar windows of drums")
    train_split, val_split = _splits(corpus)
    if val_split is None:
        _hold_out(corpus)
        train_split, val_split = "train", "validation"
    genres = sorted({cw.source.genre for ws in corpus.windows.values() for cw in ws})
    if opts.init:
        for g in genres:
            vocab = vocab.with_genre(g)
    else:
        vocab = Vocabulary.from_genres(genres)
        bins = corpus.bins
    assert bins is not None
    examples = Examples(vocab, MAX_TOKENS)
    train_data = encode_corpus(corpus, train_split, vocab)
    val_data = encode_corpus(corpus, val_split, vocab)
    val_items = validation_items(val_data, examples, opts.eval_sequences)
    log(f"corpus: {len(train_data)} train sequences, {len(val_data)} validation, "
        f"{len(vocab)} tokens, genres {', '.join(vocab.genres)}")

    # --- model, optimizer, checkpoint ---------------------------------------------
    if base_config is not None:
        config = GPTConfig(**{k: base_config[k] for k in
                              ("vocab_size", "block_size", "n_layer", "n_head", "n_embd")})
    else:
        config = GPTConfig(vocab_size=len(vocab), block_size=MAX_TOKENS, n_layer=opts.n_layer,
                           n_head=opts.n_head, n_embd=opts.n_embd)
    model = GPT(config)
    if base_state is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in base_state.items()},
                              strict=False)
    model.to(device)
    optimizer = model.configure_optimizer(opts.lr, opts.weight_decay)
    step, best_val, best_state = 0, float("inf"), None
    history: list[dict] = []
    rng = np.random.default_rng([opts.seed, rank])
    if ckpt_path.exists() and not opts.fresh:
        ck = load_checkpoint(ckpt_path)
        if ck["config"] == config.to_dict() and ck["vocab"] == list(vocab.tokens):
            model.load_state_dict(ck["model"])
            optimizer.load_state_dict(ck["optimizer"])
            step, best_val, best_state = ck["step"], ck["best_val"], ck["best_state"]
            history = ck.get("history", [])
            rng = np.random.default_rng([opts.seed, rank, step])
            log(f"resuming {ckpt_path} at step {step} (best validation loss {best_val:.4f})")
        else:
            log(f"{ckpt_path}: a checkpoint of another model; starting afresh")
    log(f"model: {model.num_params() / 1e6:.2f} M parameters, {config}")

    def evaluate() -> float:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            items = sorted(val_items, key=lambda it: len(it[0]))
            for k in range(0, len(items), 64):
                x, y, m = examples.batch(items[k : k + 64])
                x, y, m = (torch.from_numpy(a).to(device) for a in (x, y, m))
                _, loss = model(x, y, m)
                n = int(m.sum())
                total += float(loss) * n
                count += n
        model.train()
        return total / max(1, count)

    def save() -> None:
        if not main_rank:
            return
        # plain tensors, numbers, strings, lists and dicts only: resume reads it back
        # with torch.load(weights_only=True), which runs no code from the file
        with atomic_file(ckpt_path, what="checkpoint") as f:
            torch.save({"config": config.to_dict(), "vocab": list(vocab.tokens),
                        "bins": bins.to_json(), "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(), "step": step,
                        "best_val": best_val, "best_state": best_state, "history": history,
                        "options": json.loads(json.dumps(asdict(opts), default=str))}, f)

    # --- the loop -----------------------------------------------------------------
    batches = token_batches(train_data, examples, rng, opts.tokens_per_batch)
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.index is not None
                                      else None)
    model.train()
    first = step
    started = time.monotonic()
    loss_avg = None
    val = None
    while step < opts.steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, opts)
        x, y, m = next(batches)
        _, loss = net(*(torch.from_numpy(a).to(device) for a in (x, y, m)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        lv = loss.item()
        loss_avg = lv if loss_avg is None else 0.98 * loss_avg + 0.02 * lv
        if step % opts.eval_every == 0 or step == opts.steps:
            val = evaluate()
            history.append({"step": step, "train": round(loss_avg, 4), "val": round(val, 4),
                            "minutes": round((time.monotonic() - started) / 60, 2)})
            if val < best_val:
                best_val = val
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            save()
            if not opts.progress:
                log(json.dumps(history[-1]))
        if opts.progress and main_rank:
            print(_bar(step, opts.steps, loss_avg, val, started, first), end="",
                  file=sys.stderr, flush=True)
    if opts.progress and main_rank:
        print(file=sys.stderr)
    if best_state is None:  # zero steps asked: export what there is
        best_val = evaluate()
        best_state = model.state_dict()

    state = {k: v.detach().float().cpu().numpy() for k, v in best_state.items()}
    state["lm_head.weight"] = state["transformer.wte.weight"]
    figures = {
        "steps": step,
        "best_validation_loss": round(best_val, 4),
        "parameters": model.num_params(),
        "train_sequences": len(train_data),
        "validation_sequences": len(val_data),
        "minutes": round((time.monotonic() - started_all) / 60, 1),
        "processes": world,
        "tokens_per_batch": opts.tokens_per_batch * world,
    }
    training = {"data": str(opts.data), "init": opts.init, "options": asdict(opts),
                "history": history[-20:]}
    if main_rank:
        export_gguf(out, state, config.to_dict(), vocab, bins, name=out.stem, f16=opts.f16,
                    figures=figures, training=training,
                    levels=level_table(corpus, train_split, bins, opts.init))
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    log(f"wrote {out}: best validation loss {best_val:.4f} after {step} steps")
    return figures
