"""One writer per bank: a second writer is refused, a stale lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from patterns.bank import (
    Bank,
    BankLock,
    BankLockedError,
    load_bank,
    lock_path,
    open_bank,
    save_bank,
)
from patterns.pattern import Pattern
from tests.conftest import ROOT


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_lock_writes_the_pid_and_release_removes_the_file(tmp_path):
    path = tmp_path / "b.json"
    with BankLock(path) as lock:
        assert lock.held
        assert lock_path(path).read_text().strip() == str(os.getpid())
    assert not lock.held
    assert not lock_path(path).exists()
    lock.release()  # twice is fine


def test_a_second_lock_in_this_process_is_refused(tmp_path):
    path = tmp_path / "b.json"
    with BankLock(path):
        with pytest.raises(BankLockedError) as info:
            BankLock(path).acquire()
        assert info.value.pid == os.getpid()
        assert "in use by this program" in str(info.value)
        with pytest.raises(BankLockedError):
            open_bank(path)
    BankLock(path).acquire().release()  # free again


def test_a_second_writer_process_is_refused_and_told_the_pid(tmp_path):
    path = tmp_path / "b.json"
    save_bank(Bank({"A01": Pattern(name="mine")}), path)
    bank, _, lock = open_bank(path)
    try:
        out = _python(
            """
            import sys
            from patterns.bank import Bank, BankLockedError, open_bank, save_bank
            try:
                open_bank(sys.argv[1])
            except BankLockedError as exc:
                print("open:", exc.pid, exc)
            try:
                save_bank(Bank(name="theirs"), sys.argv[1])
            except BankLockedError as exc:
                print("save:", exc.pid, exc)
            """,
            str(path),
        )
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].startswith(f"open: {os.getpid()} {path}: the bank is in use by process")
        assert "close it there first, or open another bank with --bank FILE" in lines[0]
        assert lines[1].startswith(f"save: {os.getpid()} ")
        assert load_bank(path).bank == bank  # their save did not happen
        save_bank(bank.with_name("still mine"), path)  # ours does
    finally:
        lock.release()
    assert load_bank(path).bank.name == "still mine"


def test_a_lock_of_a_killed_process_is_taken_over(tmp_path):
    path = tmp_path / "b.json"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from patterns.bank import BankLock\n"
            "BankLock(sys.argv[1]).acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(BankLockedError) as info:
            BankLock(path).acquire()
        assert info.value.pid == child.pid
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert lock_path(path).read_text().strip() == str(child.pid)  # left behind, stale
    with BankLock(path):
        assert lock_path(path).read_text().strip() == str(os.getpid())
        save_bank(Bank(name="after"), path)
    assert load_bank(path).bank.name == "after"


def test_a_stale_lock_file_with_a_dead_pid_is_taken_over(tmp_path):
    path = tmp_path / "b.json"
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        os._exit(0)
    os.waitpid(pid, 0)
    lock_path(path).write_text(f"{pid}\n")
    bank, warnings, lock = open_bank(path)
    try:
        assert lock is not None and lock.held
        assert lock_path(path).read_text().strip() == str(os.getpid())
    finally:
        lock.release()


def test_an_empty_or_garbled_lock_file_is_taken_over(tmp_path):
    path = tmp_path / "b.json"
    lock_path(path).write_text("garbage")
    with BankLock(path) as lock:
        assert lock.held
