"""One writer per bank: a lock file ``NAME.lock`` that holds the writer's pid.

The lock is an advisory ``flock`` on the lock file, held as long as the file
stays open. The kernel drops it when the holder exits, however it exits (kill -9
included), so a lock left by a dead process is stale by construction and the next
writer takes it over; the pid written inside is there to tell the user who holds
the bank. Two BankLocks on the same file conflict even inside one process.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from types import TracebackType

from patterns.bank_model import BankError, BankLockedError
from patterns.files import FileError, bak_path, describe, protect, read_user_file, unprotect

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_HELD: dict[str, BankLock] = {}  # real path of the bank -> the lock this process holds


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(path))


def held_lock(path: str | os.PathLike[str]) -> BankLock | None:
    """The lock this process holds on the bank at ``path``, if any."""
    return _HELD.get(str(_real(path)))


def _read_pid(path: Path) -> int | None:
    try:
        text = read_user_file(path, "lock file", limit=64).decode("ascii", "replace").split()
    except FileError:
        return None
    if text and text[0].isdecimal():
        return int(text[0])
    return None


class LockLinkError(BankError):
    """The lock file is a symbolic link: never followed, the bank is not written."""


class BankLock:
    """The write lock of one bank file. A context manager, or acquire()/release().

    Example::

        with BankLock(path):
            save_bank(bank, path)
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = _real(path)
        self.lock_file = lock_path(self.path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> BankLock:
        """Take the lock, or raise BankLockedError naming the holder's pid.

        Raises:
            BankLockedError: another program (or another BankLock) holds it.
            BankError: the lock file cannot be made (say, a read-only folder).
        """
        if self._fd is not None:
            return self
        if fcntl is None:  # pragma: no cover
            raise BankError(f"{self.path}: bank locks need a POSIX system")
        while True:
            try:
                fd = os.open(
                    self.lock_file,
                    os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                    | getattr(os, "O_NOFOLLOW", 0),
                    0o644,
                )
            except OSError as exc:
                if os.path.islink(self.lock_file):
                    raise LockLinkError(
                        f"{self.path}: the lock file {self.lock_file.name} is a symbolic link; "
                        "it is not followed, and the bank is not written until it is removed"
                    ) from None
                raise BankError(
                    f"{self.path}: cannot make the lock file {self.lock_file.name}: "
                    f"{describe(exc)}"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    pid = _read_pid(self.lock_file)
                    who = f"process {pid}" if pid is not None else "another process"
                    if pid == os.getpid():
                        who = "this program (another window or task)"
                    raise BankLockedError(
                        f"{self.path}: the bank is in use by {who}; "
                        "close it there first, or open another bank with --bank FILE",
                        pid,
                    ) from None
                raise BankError(f"{self.path}: cannot lock: {exc.strerror or exc}") from None
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise LockLinkError(
                    f"{self.path}: the lock file {self.lock_file.name} is not a regular file; "
                    "the bank is not written until it is removed"
                )
            # The holder before us may have removed the file as it released it: make sure
            # the file we locked is the one at the path, or start again.
            try:
                same = os.stat(self.lock_file).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            break
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except OSError:
            pass  # the lock holds without the pid; others then say "another process"
        self._fd = fd
        _HELD[str(self.path)] = self
        protect(self.path, "the open bank")
        protect(bak_path(self.path), "the open bank's backup")
        protect(self.lock_file, "the open bank's lock file")
        return self

    def release(self) -> None:
        """Give the lock up (and remove the lock file). Safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if _HELD.get(str(self.path)) is self:
            del _HELD[str(self.path)]
            for path in (self.path, bak_path(self.path), self.lock_file):
                unprotect(path)
        try:
            os.unlink(self.lock_file)  # while still locked, so nobody else's file goes
        except OSError:
            pass
        os.close(fd)

    def __enter__(self) -> BankLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __repr__(self) -> str:
        state = "held" if self.held else "free"
        return f"BankLock({str(self.path)!r}, {state})"


def check_not_locked_elsewhere(path: str | os.PathLike[str]) -> None:
    """Raise BankLockedError if another program holds the bank's lock.

    A bank this process holds the lock of passes; an unlocked bank passes (the lock
    is taken and given back at once).
    """
    if held_lock(path) is not None:
        return
    lock = BankLock(path)
    try:
        lock.acquire()
    except (BankLockedError, LockLinkError):
        raise
    except BankError:
        return  # no lock file can be made here: the save reports the folder's problem
    lock.release()
