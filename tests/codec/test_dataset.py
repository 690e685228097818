from __future__ import annotations

import csv
import json
import shutil

import mido
import pytest

from codec.dataset import build_corpus, find_sources, genre_name
from codec.tokens import decode
from tests.conftest import GROOVE

HANDFUL = [
    "drummer1/session1/1_funk_80_beat_4-4.mid",
    "drummer1/session1/10_jazz-funk_116_fill_4-4.mid",
    "drummer1/session1/101_dance-disco_120_beat_4-4.mid",
    "drummer1/session2/1_latin-chacarera_157_beat_3-4.mid",
]

needs_groove = pytest.mark.skipif(
    not GROOVE.exists(), reason="the Groove data is not beside the project"
)


def test_genre_names():
    assert genre_name("funk/groove3") == "funk"
    assert genre_name("Hip Hop") == "hip-hop"
    assert genre_name("") == "unknown"


@pytest.fixture
def groove_subset(tmp_path):
    """A Groove-layout folder: four real files (one 3/4), one broken, one without drums."""
    root = tmp_path / "groove"
    with (GROOVE / "info.csv").open(newline="") as f:
        rows = {r["midi_filename"]: r for r in csv.DictReader(f)}
    chosen = [rows[name] for name in HANDFUL]
    for row in chosen:
        dest = root / row["midi_filename"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(GROOVE / row["midi_filename"], dest)
    (root / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00")
    silent = mido.MidiFile()
    silent.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=90)]))
    silent.save(root / "silent.mid")
    extra = []
    for name, split in (("broken.mid", "validation"), ("silent.mid", "validation")):
        extra.append(dict(chosen[0], midi_filename=name, split=split, style="rock"))
    chosen[2] = dict(chosen[2], split="validation")
    with (root / "info.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(chosen[0]))
        writer.writeheader()
        writer.writerows(chosen + extra)
    return root


@needs_groove
def test_corpus_on_a_handful_of_groove_files(groove_subset, tmp_path):
    out = tmp_path / "corpus"
    stats = build_corpus(groove_subset, out)
    saved = json.loads((out / "stats.json").read_text())
    assert saved == json.loads(json.dumps(stats))
    assert stats["skipped"] == {"no drum notes": 1, "not 4/4": 1, "not a valid MIDI file": 1}
    train = (out / "train.txt").read_text().splitlines()
    validation = (out / "validation.txt").read_text().splitlines()
    assert len(train) == 4 * stats["windows"]["train"]
    assert len(validation) == 4 * stats["windows"]["validation"]
    assert stats["sequences"] == len(train) + len(validation)
    assert stats["tokens"] == sum(len(line.split()) for line in train + validation)
    # 1_funk_80 lasts 86.7 s = 28.9 bars at 80 BPM: 28 windows with a hop of 1 bar;
    # the jazz-funk fill is shorter than a bar: one window
    assert stats["windows"]["train"] == 28 + 1
    assert set(stats["genres"]) == {"funk", "jazz", "dance"}
    assert stats["roundtrip"]["max_offset_error_ms"] <= 2.0
    assert stats["roundtrip"]["max_velocity_error"] <= 4
    assert stats["roundtrip"]["notes"] > 1000
    decoded = [decode(line) for line in train]
    assert [d.group for d in decoded[:8]] == [1, 2, 3, 4, 1, 2, 3, 4]
    assert any(d.events == () for d in decoded)  # empty groups are kept
    assert {d.params.type for d in decoded} == {"beat", "fill"}
    levels = {d.params.density for d in decoded if d.events}
    assert levels <= {"low", "mid", "high"} and len(levels) >= 2


def test_plain_folder_genre_from_parent(tmp_path):
    folder = tmp_path / "mine" / "trap"
    folder.mkdir(parents=True)
    midi = mido.MidiFile()
    track = mido.MidiTrack()
    for i in range(16):
        track.append(mido.Message("note_on", channel=9, note=36 if i % 4 == 0 else 42,
                                  velocity=100, time=0 if i == 0 else 240))
    midi.tracks.append(track)
    midi.save(folder / "a.mid")
    (folder / "notes.txt").write_text("not midi, not read")
    assert [s.genre for s in find_sources(tmp_path / "mine")] == ["trap"]
    stats = build_corpus(tmp_path / "mine", tmp_path / "out")
    assert stats["windows"] == {"all": 1}
    assert stats["genres"] == {"trap": 1}
    lines = (tmp_path / "out" / "all.txt").read_text().splitlines()
    assert lines[0].startswith("genre:trap type:beat")
    assert len(decode(lines[0]).events) == 4 and len(decode(lines[1]).events) == 12
