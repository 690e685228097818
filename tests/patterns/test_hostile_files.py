"""Hostile files: every reader refuses what is not a regular file of sane size, every
writer leaves nothing partial and never writes through a symlink or over a read-only
or protected file.

One fuzz runs every kind of file (FIFO, device, folder, symlink to each, huge, deep,
garbage) through every reader the project has: MIDI, bank, kit map, model, info.csv
and `autobeat play FILE`. Each must answer with one line (its own error type) within
seconds; none may hang or raise anything else.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from codec.dataset import find_sources
from codec.errors import CodecError
from codec.midi import read_midi, write_midi
from models.ggufmeta import GGUFFormatError, read_header
from patterns.bank import Bank, BankError, BankLock, load_bank, save_bank
from patterns.files import FileError, check_overwrite, read_user_file, write_atomic
from patterns.kit import KitError, KitMap
from patterns.pattern import Event, Pattern


def _fifo(folder: Path) -> Path:
    path = folder / "fifo"
    os.mkfifo(path)
    return path


def _huge(folder: Path) -> Path:
    path = folder / "huge"
    with open(path, "wb") as f:
        f.truncate(20 * 1024**3)  # sparse: 20 GB that take no disk
    return path


def _deep(folder: Path) -> Path:
    path = folder / "deep"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def _garbage(folder: Path) -> Path:
    path = folder / "garbage"
    path.write_bytes(os.urandom(4096))
    return path


KINDS = {
    "fifo": _fifo,
    "device": lambda folder: Path("/dev/zero"),
    "folder": lambda folder: folder,
    "huge": _huge,
    "deep": _deep,
    "garbage": lambda folder: _garbage(folder),
    "missing": lambda folder: folder / "missing",
}


def _with_symlinks():
    for kind in KINDS:
        yield kind, False
        yield kind, True


def _reader_calls():
    return {
        "MIDI": (lambda p: read_midi(p), CodecError),
        "bank": (lambda p: load_bank(p), BankError),
        "kit": (lambda p: KitMap.from_toml(p), KitError),
        "model": (lambda p: read_header(p), GGUFFormatError),
        "info.csv": (lambda p: find_sources(_info_folder(p)), CodecError),
    }


def _info_folder(target: Path) -> Path:
    folder = Path(str(target) + ".data")
    folder.mkdir(exist_ok=True)
    link = folder / "info.csv"
    if not os.path.lexists(link):
        link.symlink_to(target)
    return folder


def _call_within(fn, seconds: float):
    result: dict = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - checked below
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"hung for {seconds} s"
    return result


@pytest.mark.parametrize(("reader", "kind", "via_link"), [
    (reader, kind, via_link) for reader in _reader_calls()
    for kind, via_link in _with_symlinks()
    # a folder named info.csv beside itself is not a case
    if not (reader == "info.csv" and kind == "folder")
])
def test_every_reader_refuses_every_hostile_kind_in_one_line(tmp_path, reader, kind, via_link):
    target = KINDS[kind](tmp_path)
    if via_link:
        link = tmp_path / "link"
        link.symlink_to(target)
        target = link
    fn, error = _reader_calls()[reader]
    result = _call_within(lambda: fn(target), 10)
    exc = result.get("error")
    assert exc is not None, f"{reader} accepted a {kind}"
    assert isinstance(exc, error), f"{reader} on a {kind}: {type(exc).__name__}: {exc}"
    line = str(exc)
    assert line and "\n" not in line and len(line) < 400
    if kind in ("fifo", "device", "folder"):
        assert "not a" in line or "is a" in line or "not UTF-8" in line, line


@pytest.mark.parametrize("kind", ["fifo", "device", "huge", "folder"])
def test_autobeat_play_refuses_in_one_line(tmp_path, kind):
    target = KINDS[kind](tmp_path)
    result = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "play", str(target),
                             "--out", "none", "--seconds", "0.1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autobeat play: "), lines


def test_the_size_cap_holds_even_if_the_file_grows(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_user_file(path, limit=100) == b"x" * 100
    with pytest.raises(FileError, match="too large for a file"):
        read_user_file(path, limit=99)


# --- writing --------------------------------------------------------------------------


def _p() -> Pattern:
    return Pattern((Event(0, 1, 0, 100),))


def test_no_writer_follows_a_symlink_for_its_temp_or_backup(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    bank = tmp_path / "b.json"
    save_bank(Bank({"A01": _p()}), bank)
    (tmp_path / "b.json.bak").unlink(missing_ok=True)
    (tmp_path / "b.json.bak").symlink_to(victim)
    save_bank(Bank({"A02": _p()}), bank)
    assert victim.read_text() == "precious"
    assert not (tmp_path / "b.json.bak").is_symlink()  # replaced, not followed


def test_a_lock_file_that_is_a_symlink_is_never_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    bank = tmp_path / "b.json"
    (tmp_path / "b.json.lock").symlink_to(victim)
    with pytest.raises(BankError, match="lock file b.json.lock is a symbolic link"):
        BankLock(bank).acquire()
    with pytest.raises(BankError, match="symbolic link"):
        save_bank(Bank({"A01": _p()}), bank)
    assert victim.read_text() == "precious"
    assert not bank.exists()


def test_a_read_only_bank_is_refused_and_says_why(tmp_path):
    bank = tmp_path / "b.json"
    save_bank(Bank({"A01": _p()}), bank)
    before = bank.read_bytes()
    os.chmod(bank, 0o444)
    with pytest.raises(BankError, match="the file is read-only; not replaced"):
        save_bank(Bank({"A02": _p()}), bank)
    assert bank.read_bytes() == before
    result = subprocess.run([sys.executable, "-m", "autobeat_tui.cli", "bank", "clear", "A01",
                             "--bank", str(bank)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "read-only" in result.stderr
    assert bank.read_bytes() == before


def test_export_never_overwrites_the_bank_its_backup_or_lock(tmp_path):
    bank = tmp_path / "live.json"
    save_bank(Bank({"A01": _p()}), bank)
    save_bank(Bank({"A01": _p(), "A02": _p()}), bank)
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for target in ("live.json", "live.json.bak", "live.json.lock"):
        for force in ([], ["--force"]):
            result = subprocess.run(
                [sys.executable, "-m", "autobeat_tui.cli", "bank", "export", "--bank", str(bank),
                 "A01", str(tmp_path / target), *force],
                capture_output=True, text=True, timeout=60)
            assert result.returncode == 2, (target, force, result.stderr)
            assert "not written over" in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


def test_midi_is_never_written_over_a_bank_and_over_other_files_only_with_force(tmp_path):
    bank = tmp_path / "live.json"
    save_bank(Bank({"A01": _p()}), bank)
    before = bank.read_bytes()
    for force in (False, True):  # a bank, open or not, is never replaced by an export
        with pytest.raises(CodecError, match="live.json: is a bank file; not written over"):
            write_midi(bank, [_p()], force=force)
        with pytest.raises(CodecError, match="is a bank's lock file; not written over"):
            write_midi(tmp_path / "live.json.lock", [_p()], force=force)
    assert bank.read_bytes() == before
    assert not (tmp_path / "live.json.lock").exists()
    other = tmp_path / "other.txt"
    other.write_text("mine")
    with pytest.raises(CodecError, match="exists and is not a MIDI file; not written over "
                                         r"\(add --force to replace it\)"):
        write_midi(other, [_p()])
    assert other.read_text() == "mine"
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    write_midi(notes, [_p()], force=True)
    assert notes.read_bytes()[:4] == b"MThd"
    old = tmp_path / "old.mid"
    write_midi(old, [_p()])
    write_midi(old, [Pattern()])  # a MIDI file over a MIDI file: no --force needed
    check_overwrite(old, magic=b"MThd")


def test_a_held_bank_is_protected_from_every_writer(tmp_path):
    bank = tmp_path / "b.json"
    save_bank(Bank({"A01": _p()}), bank)
    with BankLock(bank):
        for path in (bank, tmp_path / "b.json.bak", tmp_path / "b.json.lock"):
            with pytest.raises(FileError, match="not written over"):
                write_atomic(path, b"x")
        save_bank(Bank({"A02": _p()}), bank)  # its own writer may
    write_atomic(tmp_path / "b.json.bak", b"x")  # released: no longer protected


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KB tmpfs: a real full disk (needs root and mount; skipped with the reason)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a small tmpfs here: {exc}")
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()[:120]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=20)


def _fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 1024):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_full_disk_leaves_every_old_file_and_no_temp(small_disk):
    mid, bank, text = small_disk / "beat.mid", small_disk / "b.json", small_disk / "stats.json"
    write_midi(mid, [_p()])
    save_bank(Bank({"A01": _p()}), bank)
    write_atomic(text, b"{}")
    before = {p.name: p.read_bytes() for p in small_disk.iterdir()}
    _fill(small_disk)
    many = [Pattern(tuple(Event(s, t, 0, 100) for s in range(32) for t in (1, 3, 5)))] * 40
    with pytest.raises(CodecError, match="the disk is full; the file on disk is unchanged"):
        write_midi(mid, many)
    big = Bank({f"A{i:02d}": many[0] for i in range(1, 17)})
    with pytest.raises(BankError, match="the disk is full; the file on disk is unchanged"):
        save_bank(big, bank)
    with pytest.raises(FileError, match="the disk is full"):
        write_atomic(text, b"x" * 200_000)
    (small_disk / "filler").unlink()
    after = {p.name: p.read_bytes() for p in small_disk.iterdir()}
    assert after == before  # the old files as they were, and nothing partial left
