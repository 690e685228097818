"""Saving: atomic, durable, NAME.bak kept; failing writes leave the old file."""

from __future__ import annotations

import errno
import os
import resource
import signal
import stat
import tempfile
from pathlib import Path

import pytest

from autobeat_tui.bench.bank import full_bank
from patterns import bank_write
from patterns.bank import (
    Bank,
    BankError,
    default_bank_path,
    load_bank,
    open_bank,
    save_bank,
    starter_bank,
)
from patterns.pattern import Event, Pattern


def _bank(tag: str, slots: int = 3) -> Bank:
    return Bank(
        {f"A{i + 1:02d}": Pattern((Event(i, 1, 0, 100),), name=f"{tag}{i}") for i in range(slots)},
        name=tag,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(("tmp",)))


def test_save_keeps_the_previous_file_as_bak(tmp_path):
    path = tmp_path / "b.json"
    save_bank(_bank("one"), path)
    assert not (tmp_path / "b.json.bak").exists()
    save_bank(_bank("two"), path)
    assert load_bank(path).bank == _bank("two")
    assert load_bank(tmp_path / "b.json.bak").bank == _bank("one")
    save_bank(_bank("three"), path)
    assert load_bank(tmp_path / "b.json.bak").bank == _bank("two")
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "b.json.bak"]


def test_save_keeps_the_file_mode_and_follows_symlinks(tmp_path):
    real = tmp_path / "real.json"
    save_bank(_bank("one"), real)
    os.chmod(real, 0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save_bank(_bank("two"), link)
    assert link.is_symlink()
    assert load_bank(real).bank == _bank("two")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_bak_is_a_copy_where_hard_links_fail(tmp_path, monkeypatch):
    path = tmp_path / "b.json"
    save_bank(_bank("one"), path)

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(bank_write.os, "link", no_links)
    save_bank(_bank("two"), path)
    assert load_bank(tmp_path / "b.json.bak").bank == _bank("one")
    assert load_bank(path).bank == _bank("two")


@pytest.mark.parametrize("where", ["write", "fsync", "link", "replace"])
def test_a_failing_step_leaves_the_old_file_and_says_why(tmp_path, monkeypatch, where):
    path = tmp_path / "b.json"
    save_bank(_bank("old"), path)
    before = path.read_bytes()
    real = {"write": os.write, "fsync": os.fsync, "link": os.link, "replace": os.replace}

    def failing(*args, **kwargs):
        if where == "write":  # half the data goes, then the disk is full
            fd, data = args
            if len(data) > 10:
                real["write"](fd, bytes(data[:10]))
                raise OSError(errno.ENOSPC, "No space left on device")
        raise OSError(errno.ENOSPC if where != "fsync" else errno.EIO, "failed")

    monkeypatch.setattr(bank_write.os, where, failing)
    with pytest.raises(BankError) as info:
        save_bank(_bank("new", slots=9), path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot save: ")
    assert message.endswith("the file on disk is unchanged")
    if where == "write":
        assert "the disk is full" in message
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_bank(path).bank == _bank("old")
    assert _leftovers(tmp_path) == []


def _in_child(fn) -> tuple[int, str]:
    """Run fn() in a forked child; (exit code, what it wrote to the pipe)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read)
            text = fn()
            os.write(write, text.encode())
            code = 0
        except BaseException as exc:
            os.write(write, f"{type(exc).__name__}: {exc}".encode())
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


def test_a_real_write_failure_past_the_file_size_limit_leaves_the_old_file(tmp_path):
    """A real failing write, not a mock: RLIMIT_FSIZE makes write() fail with EFBIG."""
    path = tmp_path / "b.json"
    save_bank(_bank("old"), path)
    before = path.read_bytes()

    def child() -> str:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 100, len(before) + 100))
        try:
            save_bank(full_bank(8), path)
        except BankError as exc:
            return f"BankError: {exc}"
        return "saved"

    code, out = _in_child(child)
    assert code == 0
    assert out.startswith(f"BankError: {path}: cannot save: the file is larger than")
    assert path.read_bytes() == before
    assert load_bank(path).bank == _bank("old")
    assert _leftovers(tmp_path) == []


@pytest.fixture
def shared_folder():
    """A folder another user can reach (tmp_path's parents are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="autobeat-ro-"))
    os.chmod(folder, 0o755)
    yield folder
    os.chmod(folder, 0o755)
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


def _drop_root() -> None:
    if os.geteuid() == 0:  # root writes anywhere: be nobody, to whom 0o555 is read-only
        os.setgid(65534)
        os.setuid(65534)


def test_a_read_only_folder_leaves_the_old_file_and_says_why(shared_folder):
    path = shared_folder / "b.json"
    save_bank(_bank("old"), path)
    before = path.read_bytes()
    os.chmod(shared_folder, 0o555)

    def child() -> str:
        _drop_root()
        bank, warnings, lock = open_bank(path)
        assert lock is None and bank == _bank("old")
        try:
            save_bank(bank.with_name("new"), path)
        except BankError as exc:
            return "\n".join([*warnings, str(exc)])
        return "saved"

    code, out = _in_child(child)
    assert code == 0, out
    warning, error = out.splitlines()
    assert "cannot make the lock file b.json.lock" in warning
    assert "changes to this bank cannot be saved there" in warning
    assert error == (
        f"{path}: cannot save: permission denied (is the folder read-only?); "
        "the file on disk is unchanged"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in shared_folder.iterdir()) == ["b.json"]


def test_an_unreadable_file_is_never_overwritten(tmp_path):
    path = tmp_path / "b.json"
    save_bank(_bank("older"), path)
    save_bank(_bank("old"), path)
    path.write_text(path.read_text()[:50])  # truncated by some accident
    damaged = path.read_bytes()
    bank, warnings, lock = open_bank(path)
    try:
        assert bank == Bank(name="b")
        assert len(warnings) == 1
        assert warnings[0].startswith(f"{path}: truncated, not valid JSON at line")
        assert "Started with an empty bank; that file is left untouched" in warnings[0]
        assert warnings[0].endswith(
            "(the save before is in b.json.bak: `autobeat bank restore` puts it back)"
        )
        with pytest.raises(BankError, match="^not saved: .*truncated.*save to another file"):
            save_bank(bank.with_slot("A01", Pattern()), path)
        assert path.read_bytes() == damaged
        save_bank(bank.with_slot("A01", Pattern()), tmp_path / "elsewhere.json")
        save_bank(bank, path, overwrite_unreadable=True)  # the user's explicit choice
        assert load_bank(path).bank == bank
    finally:
        lock.release()


def test_a_newer_format_is_not_overwritten(tmp_path):
    path = tmp_path / "b.json"
    path.write_text('{"format": "autobeat-bank", "version": 3, "slots": {}}')
    with pytest.raises(BankError, match="version 3 is newer than this program"):
        save_bank(Bank(), path)


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    path = tmp_path / "b.json"
    dead = _dead_pid()
    (tmp_path / f".b.json.{dead}.abcd.tmp").write_text("half")
    (tmp_path / f".b.json.{os.getpid()}.beef.tmp").write_text("mine, in progress")
    (tmp_path / ".other.json.1.x.tmp").write_text("not ours")
    save_bank(_bank("x"), path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert f".b.json.{dead}.abcd.tmp" not in names
    assert f".b.json.{os.getpid()}.beef.tmp" in names
    assert ".other.json.1.x.tmp" in names


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_open_bank_makes_the_default_bank_on_first_run(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = default_bank_path()
    assert path == tmp_path / "data" / "autobeat" / "banks" / "default.json"
    bank, warnings, lock = open_bank()
    try:
        assert warnings == ()
        assert bank == starter_bank()
        assert load_bank(path).bank == starter_bank()
        assert lock is not None and lock.held
    finally:
        lock.release()
    edited = bank.with_slot("B01", Pattern(name="mine"))
    save_bank(edited, path)
    bank, warnings, lock = open_bank()
    lock.release()
    assert bank == edited  # not made again


def test_open_bank_on_a_new_path_is_empty_until_saved(tmp_path):
    path = tmp_path / "live.json"
    bank, warnings, lock = open_bank(path)
    try:
        assert bank == Bank(name="live")
        assert warnings == (f"{path}: a new bank; the file is made on the first save",)
        assert not path.exists()
        save_bank(bank.with_slot("A01", Pattern()), path)
        assert load_bank(path).bank.filled() == ["A01"]
    finally:
        lock.release()


def test_open_bank_reports_skipped_slots(tmp_path):
    path = tmp_path / "b.json"
    save_bank(_bank("x"), path)
    path.write_text(path.read_text().replace("track:1", "track:7", 1))
    bank, warnings, lock = open_bank(path, lock=False)
    assert lock is None
    assert bank.filled() == ["A02", "A03"]
    assert warnings[0].startswith(f"{path}: slot A01 skipped: group 1 (drums): tokens: token 6")
