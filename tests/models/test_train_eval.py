"""Training end to end on a handful of files (CLI), fine-tuning, then eval on them."""

from __future__ import annotations

import json
import shutil

import pytest

from autobeat_tui.cli import main
from models.runner import BeatModel
from patterns.pattern import GroupParams, Pattern

pytest.importorskip("torch")


def test_train_cli_then_eval_cli(groove_subset, tmp_path, capsys):
    out = tmp_path / "cli.gguf"
    rc = main(["train", "--data", str(groove_subset), "--out", str(out), "--steps", "8",
               "--width", "32", "--layers", "1", "--heads", "2", "--batch-tokens", "1024",
               "--eval-every", "4", "--checkpoint", str(tmp_path / "cli.pt"), "--threads", "1"])
    assert rc == 0 and out.exists()
    with BeatModel.load(out, n_threads=1) as m:
        assert m.genres == ("jazz", "rock")
        assert m.metadata["general.file_type"] == 1  # F16 by default
    capsys.readouterr()
    rc = main(["eval", "--data", str(groove_subset), "--model", str(out), "--samples", "12",
               "--ngram-data", str(groove_subset), "--threads", "1", "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("nll_per_token", "ngram_nll_per_token", "valid_rate", "density_adherence",
                "intensity_adherence", "feature_overlap", "copy_rate", "samples"):
        assert key in result
    assert result["samples"] == 12
    assert result["valid_rate"] == 1.0
    assert result["density_adherence"] == 1.0  # the grammar holds the count in the bin
    assert 0 < result["nll_per_token"] < 6
    assert 0 < result["ngram_nll_per_token"] < 6
    assert set(result["feature_overlap"]) >= {"events", "velocity_mean", "mean"}
    assert 0 <= result["feature_overlap"]["mean"] <= 1


def test_resume_from_checkpoint(groove_subset, tmp_path):
    from models.train import TrainOptions, train

    opts = TrainOptions(data=str(groove_subset), out=str(tmp_path / "r.gguf"), steps=4,
                        n_embd=32, n_layer=1, n_head=2, tokens_per_batch=1024, eval_every=2,
                        eval_sequences=16, checkpoint=str(tmp_path / "r.pt"), progress=False,
                        threads=1)
    lines: list[str] = []
    assert train(opts, log=lines.append)["steps"] == 4
    opts.steps = 6
    assert train(opts, log=lines.append)["steps"] == 6
    assert any("resuming" in line and "at step 4" in line for line in lines)


def test_fine_tune_on_a_plain_folder_gives_a_new_genre_a_spare_slot(tiny_model, groove_subset,
                                                                    tmp_path):
    folder = tmp_path / "mine" / "trap"
    folder.mkdir(parents=True)
    for i, mid in enumerate(sorted(groove_subset.rglob("*.mid"))[:2]):
        shutil.copy(mid, folder / f"{i}.mid")
    out = tmp_path / "trap.gguf"
    rc = main(["train", "--data", str(tmp_path / "mine"), "--init", str(tiny_model), "--out",
               str(out), "--steps", "4", "--eval-every", "2", "--checkpoint",
               str(tmp_path / "ft.pt"), "--threads", "1", "--batch-tokens", "1024", "--f32"])
    assert rc == 0
    with BeatModel.load(tiny_model, n_threads=1) as base, BeatModel.load(out, n_threads=1) as m:
        assert "trap" in m.genres and "rock" in m.genres
        assert len(m.vocab) == len(base.vocab)
        assert m.vocab.spare_genres == base.vocab.spare_genres - 1
        assert m.bins == base.bins
        out_pattern = m.generate_group(Pattern(), 1, GroupParams(genre="trap"), seed=1)
        assert out_pattern.group_params(1).genre == "trap"


def test_train_on_a_folder_without_midi_is_a_clear_error(tmp_path, capsys):
    rc = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "x.gguf"),
               "--steps", "1"])
    assert rc == 2
    assert "no usable 2-bar windows" in capsys.readouterr().err


def test_eval_groove_compares_default_beats_with_real_ones(tiny_model, groove_subset, capsys):
    rc = main(["eval", "--groove", "--data", str(groove_subset), "--model", str(tiny_model),
               "--beats", "6", "--threads", "1", "--json"])
    assert rc == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert "groove: 6/6 new beats" in captured.err  # progress on stderr, JSON alone on stdout
    keys = {"toms_share", "crash_per_beat", "steady_hats", "hat_gap_bar2", "ride_pattern",
            "bar2_near_repeat", "timing_sd_ms", "hat_timing_sd_ms", "snare_loud_share",
            "backbeat", "hats_in_runs", "context_gain_f1", "backbeat_after_8_mutates",
            "feature_overlap"}
    assert set(result["real"]) == keys and set(result["generated"]) == keys
    assert result["beats"] == 6 and result["real_beats"] > 20
    assert 0 <= result["generated"]["toms_share"] <= 1
    assert result["real"]["timing_sd_ms"] > 1  # drummers are never on the grid
    assert 0 <= result["generated"]["feature_overlap"]["mean"] <= 1
    rc = main(["eval", "--groove", "--data", str(groove_subset), "--model", str(tiny_model),
               "--beats", "2", "--threads", "1"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "toms_share" in table and "2 new beats against" in table


def test_levels_only_gives_a_model_the_table_and_keeps_its_weights(tiny_model, groove_subset,
                                                                   tmp_path):
    from models.export import export_gguf, read_gguf_weights

    with BeatModel.load(tiny_model, n_threads=1) as m:
        vocab, bins = m.vocab, m.bins
        assert m.levels is not None  # training writes the table
    state, config = read_gguf_weights(tiny_model)
    old = export_gguf(tmp_path / "old.gguf", state, config, vocab, bins, name="old")
    with BeatModel.load(old, n_threads=1) as m:
        assert m.levels is None and "no level table" in m.levels_problem
    new = tmp_path / "new.gguf"
    assert main(["train", "--levels-only", "--init", str(old), "--data", str(groove_subset),
                 "--out", str(new)]) == 0
    with BeatModel.load(new, n_threads=1) as m:
        assert m.levels is not None and ("rock", "beat") in m.levels.keys()
    state2, _ = read_gguf_weights(new)
    assert all((state[k] == state2[k]).all() for k in state)
