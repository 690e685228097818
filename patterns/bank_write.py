"""Writing a file so that a crash, a full disk or a read-only folder never loses it.

``write_atomic(path, data)``:

1. writes ``data`` to a temp file in the same folder (``.NAME.PID.RANDOM.tmp``)
   and fsyncs it;
2. keeps the current file as ``NAME.bak`` (a hard link made under a temp name and
   renamed over the old .bak; a copy where the file system has no hard links);
3. renames the temp file over ``NAME`` and fsyncs the folder.

At every moment ``NAME`` is either the old file or the new one: rename is atomic,
and nothing before it touches ``NAME``. On any failure the temp files are removed
and BankError says what failed; the old file is untouched. Temp files left by a
process that was killed are removed by the next save.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from patterns.bank_model import BankError

_NO_LINKS = {
    errno.EPERM,
    errno.EOPNOTSUPP,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
}


def bak_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def _temp_name(path: Path, kind: str) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    except OSError:
        return False
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove ``.NAME.PID.*.tmp`` files of processes that no longer run; returns them."""
    prefix = f".{path.name}."
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or not name.endswith((".tmp", ".baktmp")):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a platform that cannot open folders (the rename is still atomic)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "write wrote nothing")
        view = view[written:]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (must not exist), write, fsync; remove it again on failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(path)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _keep_backup(path: Path) -> None:
    """Make ``NAME.bak`` the current file (which stays where it is)."""
    bak = bak_path(path)
    temp = _temp_name(path, "baktmp")
    try:
        os.link(path, temp)
    except FileNotFoundError:
        return  # no current file: nothing to keep
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        # no hard links here (FAT, some network file systems): copy
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        _write_new(temp, data, 0o644)
    try:
        os.replace(temp, bak)
    except BaseException:
        _unlink_quietly(temp)
        raise


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is used up"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (is the folder read-only?)"
    if exc.errno == errno.EFBIG:
        return "the file is larger than this process may write"
    if exc.errno == errno.ENOENT:
        return "the folder does not exist"
    return exc.strerror or str(exc)


def write_atomic(path: str | os.PathLike[str], data: bytes, keep_backup: bool = True) -> Path:
    """Replace the file at ``path`` with ``data`` atomically and durably (see module doc).

    Symbolic links are followed: the file they point to is replaced.

    Raises:
        BankError: nothing was written (the old file, if any, is untouched), or, rarely,
            the new file is in place but the folder could not be synced.
    """
    target = Path(os.path.realpath(path))
    folder = target.parent
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:
        raise BankError(f"{path}: cannot save: {_describe(exc)}") from None
    remove_stale_temps(target)
    temp = _temp_name(target, "tmp")
    try:
        _write_new(temp, data, mode)
        if keep_backup:
            _keep_backup(target)
        os.replace(temp, target)
    except OSError as exc:
        _unlink_quietly(temp)
        raise BankError(
            f"{path}: cannot save: {_describe(exc)}; the file on disk is unchanged"
        ) from None
    except BaseException:
        _unlink_quietly(temp)
        raise
    try:
        fsync_dir(folder)
    except OSError as exc:
        raise BankError(
            f"{path}: saved, but the folder could not be synced ({_describe(exc)}); "
            "a power cut now could lose this save"
        ) from None
    return target
