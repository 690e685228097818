"""User files in and out: one check for every file read, one writer for every file written.

Reading (``read_user_file``, ``check_user_file``): a file the user names (a MIDI
file, a bank, a kit, a model, an ``info.csv``) must be a regular file no larger
than a cap for its kind. A FIFO, a device (``/dev/zero``), a socket or a folder
is refused with one line instead of hanging or reading forever; symbolic links
are followed to what they name, which must itself be a regular file. The file is
opened non-blocking, so even a FIFO that appears between the check and the open
does not hang, and the kind is checked on the open descriptor.

Writing (``write_atomic``, ``atomic_file``): every file the project writes goes
through one writer that never leaves a partial or broken file:

1. the data goes to a temp file in the same folder (``.NAME.PID.RANDOM.tmp``),
   created with ``O_EXCL | O_NOFOLLOW`` (a planted symlink is never followed),
   then fsynced;
2. optionally the current file is kept as ``NAME.bak`` (a hard link made under a
   temp name and renamed over the old ``.bak``: rename replaces a symlink there
   instead of following it);
3. the temp file is renamed over ``NAME`` and the folder is fsynced.

At every moment ``NAME`` is the old file or the new one. On any failure the temp
file is removed and FileError says what failed; the old file is untouched. A
read-only target (no write permission bits, also for root) is refused, and so is
a path another part of the program protects (the open bank, its ``.bak`` and
lock: ``protect``), unless the caller owns it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

KB = 1024
MB = 1024 * KB
GB = 1024 * MB

# The most each kind of file may hold: far above any real one, far below what hangs.
LIMITS = {
    "MIDI file": 128 * MB,
    "bank": 64 * MB,
    "kit map": 1 * MB,
    "model": 16 * GB,
    "info.csv": 64 * MB,
    "token text": 16 * MB,
    "pattern file": 128 * MB,  # autobeat play FILE: MIDI, bank or token text
    "checkpoint": 16 * GB,
    "file": 256 * MB,
}

_NO_LINKS = {
    errno.EPERM,
    errno.EOPNOTSUPP,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

# real paths no writer may replace unless it says it owns them (see protect())
_PROTECTED: dict[str, str] = {}


class FileError(ValueError):
    """A file that cannot be read or written as asked: one line naming it and why."""


# --- reading ------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size_text(n: int) -> str:
    for unit, size in (("GB", GB), ("MB", MB), ("KB", KB)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


def limit_for(what: str) -> int:
    return LIMITS.get(what, LIMITS["file"])


def check_user_file(path: str | os.PathLike[str], what: str = "file",
                    limit: int | None = None) -> Path:
    """Raise FileError unless ``path`` is a regular file within the size cap of ``what``.

    For files another library opens by name (llama.cpp, torch); the open itself
    should still be non-blocking where this program opens it (read_user_file).
    """
    limit = limit_for(what) if limit is None else limit
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileError(f"{path}: cannot read {what}: no such file") from None
    except OSError as exc:
        raise FileError(f"{path}: cannot read {what}: {describe(exc)}") from None
    _check_stat(path, st, what, limit)
    return Path(path)


def _check_stat(path: str | os.PathLike[str], st: os.stat_result, what: str, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{path}: is {_kind(st.st_mode)}, not a {what}")
    if st.st_size > limit:
        raise FileError(
            f"{path}: {_size_text(st.st_size)} is too large for a {what} "
            f"(at most {_size_text(limit)})"
        )


def read_user_file(path: str | os.PathLike[str], what: str = "file",
                   limit: int | None = None) -> bytes:
    """The bytes of a user's regular file, at most the cap of ``what`` (raises FileError)."""
    limit = limit_for(what) if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        raise FileError(f"{path}: cannot read {what}: no such file") from None
    except IsADirectoryError:
        raise FileError(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise FileError(f"{path}: cannot read {what}: {describe(exc)}") from None
    try:
        _check_stat(path, os.fstat(fd), what, limit)
        os.set_blocking(fd, True)
        chunks = []
        left = limit + 1  # the file may grow after the stat: never read past the cap
        while left > 0:
            chunk = os.read(fd, min(left, 4 * MB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise FileError(f"{path}: cannot read {what}: {describe(exc)}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileError(f"{path}: too large for a {what} (at most {_size_text(limit)})")
    return data


def read_user_text(path: str | os.PathLike[str], what: str = "file",
                   limit: int | None = None) -> str:
    """As read_user_file, decoded as UTF-8 (FileError naming the byte otherwise)."""
    data = read_user_file(path, what, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(f"{path}: not UTF-8 text at byte {exc.start}, not a {what}") from None


# --- protection -----------------------------------------------------------------------


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)


def protect(path: str | os.PathLike[str], why: str) -> None:
    """No writer replaces ``path`` (unless it passes owner=True) until unprotect()."""
    _PROTECTED[_real(path)] = why


def unprotect(path: str | os.PathLike[str]) -> None:
    _PROTECTED.pop(_real(path), None)


def protected(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` may not be written over, or None."""
    return _PROTECTED.get(_real(path))


def check_overwrite(path: str | os.PathLike[str], *, magic: bytes | None = None,
                    force: bool = False, what: str = "file") -> None:
    """Refuse to write ``what`` over a protected file, or over an existing file that
    does not start with ``magic`` (a file of another kind) unless ``force``.

    Raises:
        FileError: naming the file and why it is left alone.
    """
    why = protected(path) or _bank_part(path)
    if why is not None:
        raise FileError(f"{path}: is {why}; not written over. Pick another file name")
    if magic is None or force:
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileError(f"{path}: cannot check the file there: {describe(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{path}: is {_kind(st.st_mode)}; a {what} cannot be written there")
    if st.st_size == 0:
        return
    try:
        head = _head(path, len(magic))
    except OSError:
        head = b""
    if head != magic:
        raise FileError(
            f"{path}: exists and is not a {what}; not written over (add --force to replace it)"
        )


def _looks_like_bank(path: str | os.PathLike[str]) -> bool:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        return b'"autobeat-bank"' in _head(path, 4096)
    except OSError:
        return False


def _bank_part(path: str | os.PathLike[str]) -> str | None:
    """'a bank file' / 'a bank's lock file' when ``path`` is one (even with --force: an
    export never replaces a bank, open or not), else None."""
    if _looks_like_bank(path):
        return "a bank file"
    name = os.fspath(path)
    if name.endswith(".lock") and _looks_like_bank(name[: -len(".lock")]):
        return "a bank's lock file"
    return None


def _head(path: str | os.PathLike[str], n: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _CLOEXEC)
    try:
        return os.read(fd, n)
    finally:
        os.close(fd)


# --- writing --------------------------------------------------------------------------


_OS_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (is the folder read-only?)",
    errno.EPERM: "permission denied (is the folder read-only?)",
    errno.EFBIG: "the file is larger than this process may write",
    errno.ENOENT: "the folder does not exist",
    errno.ELOOP: "it is a symbolic link, which is not followed here",
    errno.ENOTDIR: "a part of the path is not a folder",
}


def describe(exc: OSError) -> str:
    """An OSError in a few words a musician can act on."""
    return _OS_ERRORS.get(exc.errno) or exc.strerror or str(exc)


def bak_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def temp_name(path: Path, kind: str = "tmp") -> Path:
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
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or not name.endswith((".tmp", ".baktmp")):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdecimal() or _pid_alive(int(pid_text)):
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


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _create(path: Path, mode: int) -> int:
    """A new file at ``path``: never an existing one, never through a symlink."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, mode)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "write wrote nothing")
        view = view[written:]


def write_new(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create ``path`` (must not exist), write, fsync; remove it again on failure."""
    fd = _create(path, mode)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(path)
        raise


def keep_backup(path: Path) -> None:
    """Make ``NAME.bak`` the current file (which stays where it is)."""
    bak = bak_path(path)
    temp = temp_name(path, "baktmp")
    try:
        os.link(path, temp, follow_symlinks=False)
    except FileNotFoundError:
        return  # no current file: nothing to keep
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        try:  # no hard links here (FAT, some network file systems): copy
            data = path.read_bytes()
        except FileNotFoundError:
            return
        write_new(temp, data, 0o644)
    try:
        os.replace(temp, bak)  # rename replaces a symlink at NAME.bak, never follows it
    except BaseException:
        _unlink_quietly(temp)
        raise


def _target(path: str | os.PathLike[str], owner: bool, what: str,
            verb: str) -> tuple[Path, int]:
    """The real file to replace and the mode the new one gets; refuses what may not be."""
    target = Path(_real(path))
    why = protected(target)
    if why is not None and not owner:
        raise FileError(f"{path}: is {why}; not written over. Pick another file name")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, 0o644
    except OSError as exc:
        raise FileError(f"{path}: cannot {verb}: {describe(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{path}: is {_kind(st.st_mode)}; a {what} cannot be written there")
    if st.st_mode & 0o222 == 0:
        raise FileError(
            f"{path}: the file is read-only; not replaced (make it writable first, "
            "or write to another file)"
        )
    return target, st.st_mode & 0o7777


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, backup: bool = False, owner: bool = False,
                what: str = "file", verb: str = "") -> Iterator[BinaryIO]:
    """Write a file through a binary file object; it replaces ``path`` only if the
    block ends without an exception (then atomically and durably, see the module doc).

    Raises:
        FileError: nothing was written (the old file, if any, is untouched), or, rarely,
            the new file is in place but the folder could not be synced.
    """
    with _replacing(path, backup, owner, what, verb) as (fd, _):
        with os.fdopen(os.dup(fd), "wb") as f:
            yield f
            f.flush()


def write_atomic(path: str | os.PathLike[str], data: bytes, *, backup: bool = False,
                 owner: bool = False, what: str = "file", verb: str = "") -> Path:
    """Replace the file at ``path`` with ``data`` (see atomic_file); returns the real path."""
    with _replacing(path, backup, owner, what, verb) as (fd, _):
        _write_all(fd, data)
    return Path(_real(path))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, what: str = "file",
                verb: str = "") -> Iterator[Path]:
    """For a library that writes only to a path it opens itself (gguf): the path of a
    fresh temp file (made here with O_EXCL | O_NOFOLLOW) to write; after the block it
    replaces ``path`` as atomic_file does, or is removed if the block fails."""
    with _replacing(path, False, False, what, verb) as (_, temp):
        yield temp


def write_atomic_text(path: str | os.PathLike[str], text: str, **kwargs) -> Path:
    return write_atomic(path, text.encode("utf-8"), **kwargs)


@contextlib.contextmanager
def _replacing(path: str | os.PathLike[str], backup: bool, owner: bool, what: str,
               verb: str) -> Iterator[tuple[int, Path]]:
    """A new temp file (descriptor, path); after the block: fsync, .bak, rename, fsync dir."""
    verb = verb or f"write the {what}"
    target, mode = _target(path, owner, what, verb)
    remove_stale_temps(target)
    temp = temp_name(target)
    try:
        fd = _create(temp, mode)
    except OSError as exc:
        raise FileError(
            f"{path}: cannot {verb}: {describe(exc)}; the file on disk is unchanged"
        ) from None
    try:
        try:
            yield fd, temp
            os.fsync(fd)
        finally:
            os.close(fd)
        if backup:
            keep_backup(target)
        os.replace(temp, target)
    except OSError as exc:
        _unlink_quietly(temp)
        raise FileError(
            f"{path}: cannot {verb}: {describe(exc)}; the file on disk is unchanged"
        ) from None
    except BaseException:
        _unlink_quietly(temp)
        raise
    try:
        fsync_dir(target.parent)
    except OSError as exc:
        raise FileError(
            f"{path}: written, but the folder could not be synced ({describe(exc)}); "
            "a power cut now could lose it"
        ) from None
