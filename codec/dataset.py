"""The training corpus: 2-bar windows of MIDI files as group token sequences.

Input, either:
- a folder in the Groove MIDI Dataset layout: ``info.csv`` with the columns
  style, beat_type, time_signature, midi_filename (and optionally split);
  genre = the first part of the style (``funk/groove3`` -> ``funk``);
- or a plain folder of .mid files: genre = the parent folder's name, type beat,
  split ``all``.

Output (``build_corpus``): ``DIR/<split>.txt``, one group sequence per line, the
four groups of each window on four consecutive lines (groups 1..4, empty groups
included), and ``DIR/stats.json``. Density and intensity in the headers are
measured and binned with the train split's tertiles (``codec.features``).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codec.errors import CodecError
from codec.features import Bins
from codec.midi import (
    GM_NOTE_MAP,
    TD11_NOTE_MAP,
    Performance,
    Window,
    event_seconds,
    iter_windows,
    read_midi,
)
from codec.tokens import decode, encode
from patterns.files import FileError, describe, read_user_text, write_atomic_text
from patterns.grid import GROUPS
from patterns.pattern import GroupParams, Pattern

MIDI_SUFFIXES = (".mid", ".midi")
# the most 2-bar windows taken from one file (hop 1 bar): 4096 bars, over two hours at
# 120 BPM. A longer file gives its first 4096 bars; this bounds time and memory per file.
MAX_WINDOWS_PER_FILE = 4096


@dataclass(frozen=True, slots=True)
class Source:
    path: Path
    genre: str
    type: str  # beat | fill
    split: str
    time_signature: str | None = None  # from info.csv, None: read from the file
    note_map: Mapping[int, int] = field(default_factory=lambda: GM_NOTE_MAP)


@dataclass
class CorpusWindow:
    source: Source
    perf: Performance
    window: Window


@dataclass
class Corpus:
    """Windows by split, with the bins and what was skipped."""

    windows: dict[str, list[CorpusWindow]] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    bins: Bins | None = None

    def sequences(self, split: str) -> Iterator[tuple[CorpusWindow, int, list[str]]]:
        """(window, group, tokens) for every group of every window of a split."""
        assert self.bins is not None
        for cw in self.windows.get(split, []):
            for group in GROUPS:
                yield cw, group.number, encode(
                    cw.window.pattern, group.number, self.header(cw, group.number)
                )

    def header(self, cw: CorpusWindow, group: int) -> GroupParams:
        assert self.bins is not None
        events = cw.window.pattern.group_events(group)
        return GroupParams(
            genre=cw.source.genre,
            type=cw.source.type,
            density=self.bins.density_level(events, group),
            intensity=self.bins.intensity_level(events, group),
        )

    def labelled(self, cw: CorpusWindow) -> Pattern:
        """The window's pattern with its measured headers as the groups' params."""
        p = cw.window.pattern
        for g in GROUPS:
            p = p.with_params(g.number, self.header(cw, g.number))
        return p


def genre_name(text: str) -> str:
    """One lowercase word usable as a genre token: 'Funk/groove3' -> 'funk'."""
    first = text.strip().split("/")[0].lower()
    word = re.sub(r"[^a-z0-9_-]+", "-", first).strip("-")
    return word or "unknown"


def find_sources(data_dir: str | Path) -> list[Source]:
    root = Path(data_dir)
    if not root.is_dir():
        raise CodecError(f"{root}: not a folder")
    info = root / "info.csv"
    if os.path.lexists(info):
        try:
            text = read_user_text(info, "info.csv")
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except FileError as exc:
            raise CodecError(str(exc)) from None
        except csv.Error as exc:
            raise CodecError(f"{info}: not a CSV file: {exc}") from None
        needed = {"style", "beat_type", "midi_filename"}
        if rows and not needed <= set(rows[0]):
            missing = ", ".join(sorted(needed - set(rows[0])))
            raise CodecError(f"{info}: missing columns {missing}")
        sources = []
        for line, row in enumerate(rows, 2):
            if any(not isinstance(row.get(k), str) or not row[k].strip()
                   for k in ("style", "midi_filename")):
                raise CodecError(
                    f"{info}: line {line}: a short row (style and midi_filename are needed)"
                )
            kind = (row.get("beat_type") or "beat").strip().lower()
            sources.append(
                Source(
                    path=root / row["midi_filename"].strip(),
                    genre=genre_name(row["style"]),
                    type=kind if kind in ("beat", "fill") else "beat",
                    split=(row.get("split") or "all").strip() or "all",
                    time_signature=(row.get("time_signature") or "").strip() or None,
                    note_map=TD11_NOTE_MAP,  # the Groove layout: recorded on a Roland TD-11
                )
            )
        return sources
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES)
    return [Source(p, genre_name(p.parent.name), "beat", "all") for p in files]


def collect(
    data_dir: str | Path, log: Callable[[str], None] | None = None, bins: Bins | None = None
) -> Corpus:
    """Read every file and cut its windows. Bins: given, or the train split's tertiles."""
    corpus = Corpus()

    def skip(source: Source, reason: str, detail: str) -> None:
        corpus.skipped[reason] += 1
        line = f"skipped {source.path}: {detail}"
        corpus.messages.append(line)
        if log:
            log(line)

    for source in find_sources(data_dir):
        if source.time_signature is not None and source.time_signature not in ("4-4", "4/4"):
            skip(source, "not 4/4", f"time signature {source.time_signature}")
            continue
        try:
            perf = read_midi(source.path, source.note_map,
                             max_beats=(MAX_WINDOWS_PER_FILE + 2) * 4)
        except CodecError as exc:
            reason = str(exc).split(": ", 1)[-1]
            key = "no drum notes" if "no drum notes" in reason else (
                "unreadable" if "cannot read" in reason else "not a valid MIDI file"
            )
            skip(source, key, reason)
            continue
        if source.time_signature is None and not perf.is_four_four():
            skip(source, "not 4/4", "time signature is not 4/4")
            continue
        found = list(itertools.islice(iter_windows(perf, source.note_map, hop_bars=1),
                                      MAX_WINDOWS_PER_FILE + 1))
        if len(found) > MAX_WINDOWS_PER_FILE:
            found = found[:MAX_WINDOWS_PER_FILE]
            line = f"{source.path}: only its first {MAX_WINDOWS_PER_FILE} bars are used"
            corpus.messages.append(line)
            if log:
                log(line)
        if not found:
            skip(source, "no drum notes", "no notes on the 12 tracks")
            continue
        corpus.windows.setdefault(source.split, []).extend(
            CorpusWindow(source, perf, w) for w in found
        )
    train = corpus.windows.get("train") or [w for ws in corpus.windows.values() for w in ws]
    corpus.bins = bins or Bins.from_groups(
        (g.number, cw.window.pattern.group_events(g.number)) for cw in train for g in GROUPS
    )
    return corpus


def roundtrip_errors(corpus: Corpus) -> dict:
    """Decode every window's tokens back to times at the file's tempo; compare with the notes."""
    max_ms = 0.0
    sum_ms = 0.0
    max_vel = 0
    notes = 0
    merged = 0
    for split in corpus.windows:
        for cw in corpus.windows[split]:
            merged += cw.window.merged
            source_of = {(e.step, e.track): n for e, n in cw.window.sources}
            for group in GROUPS:
                tokens = encode(cw.window.pattern, group.number)
                for event in decode(tokens).events:
                    note = source_of[(event.step, event.track)]
                    t = event_seconds(cw.perf, cw.window.bar, event)
                    err = abs(t - cw.perf.seconds(note.tick)) * 1000.0
                    max_ms = max(max_ms, err)
                    sum_ms += err
                    max_vel = max(max_vel, abs(event.velocity - note.velocity))
                    notes += 1
    return {
        "max_offset_error_ms": round(max_ms, 4),
        "mean_offset_error_ms": round(sum_ms / notes, 4) if notes else 0.0,
        "max_velocity_error": max_vel,
        "notes": notes,
        "merged_notes": merged,
    }


def build_corpus(
    data_dir: str | Path, out_dir: str | Path, log: Callable[[str], None] | None = None
) -> dict:
    """Write DIR/<split>.txt and DIR/stats.json; return the stats."""
    out = Path(out_dir)
    if os.path.lexists(out) and not out.is_dir():
        raise CodecError(f"{out}: is a file, not a folder for the corpus; pick another --out")
    corpus = collect(data_dir, log)
    if not corpus.windows:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(corpus.skipped.items()))
        raise CodecError(
            f"{data_dir}: no usable MIDI file (no 4/4 drum windows"
            + (f"; skipped: {why})" if why else "; no .mid files found)")
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CodecError(f"{out}: cannot make the corpus folder: {describe(exc)}") from None
    sequences = 0
    tokens = 0
    genres: Counter = Counter()
    for split in sorted(corpus.windows):
        lines = []
        for cw, group, toks in corpus.sequences(split):
            if group == 1:
                genres[cw.source.genre] += 1
            lines.append(" ".join(toks))
            tokens += len(toks)
        sequences += len(lines)
        _write(out / f"{split}.txt", "\n".join(lines) + "\n")
    assert corpus.bins is not None
    stats = {
        "windows": {s: len(ws) for s, ws in sorted(corpus.windows.items())},
        "files": {
            s: len({cw.source.path for cw in ws}) for s, ws in sorted(corpus.windows.items())
        },
        "sequences": sequences,
        "tokens": tokens,
        "genres": dict(sorted(genres.items())),
        "bins": corpus.bins.to_dict(),
        "skipped": dict(sorted(corpus.skipped.items())),
        "roundtrip": roundtrip_errors(corpus),
    }
    _write(out / "stats.json", json.dumps(stats, indent=2) + "\n")
    return stats


def _write(path: Path, text: str) -> None:
    try:
        write_atomic_text(path, text, what="corpus file")
    except FileError as exc:
        raise CodecError(str(exc)) from None
