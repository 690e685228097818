"""Saving a bank file so that a crash, a full disk or a read-only folder never loses it.

``write_atomic(path, data)`` is the project's one atomic writer (patterns.files)
with the bank's words and error type: a temp file in the same folder, fsync,
the current file kept as ``NAME.bak``, rename, fsync of the folder. At every
moment ``NAME`` is either the old file or the new one; on any failure BankError
says what failed and the old file is untouched. Temp files left by a process
that was killed are removed by the next save. Neither the temp file nor the
``.bak`` is ever written through a symbolic link.
"""

from __future__ import annotations

import os
from pathlib import Path

from patterns.bank_model import BankError
from patterns.files import (
    FileError,
    bak_path,
    describe,
    fsync_dir,
    remove_stale_temps,
)
from patterns.files import write_atomic as _write_atomic

__all__ = ["bak_path", "describe", "fsync_dir", "remove_stale_temps", "write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes, keep_backup: bool = True) -> Path:
    """Replace the bank file at ``path`` with ``data`` atomically and durably.

    Symbolic links to the bank are followed: the file they point to is replaced.
    A read-only bank file is refused.

    Raises:
        BankError: nothing was written (the old file, if any, is untouched), or, rarely,
            the new file is in place but the folder could not be synced.
    """
    try:
        return _write_atomic(path, data, backup=keep_backup, owner=True, what="bank",
                             verb="save")
    except FileError as exc:
        raise BankError(str(exc)) from None
