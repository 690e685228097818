"""The host's wire format: versioned JSON lines over a Unix domain socket.

Every message is one JSON object on one line (UTF-8, ``\\n`` ends it). A client
opens with ``{"v": VERSION, "hello": ROLE}`` (ROLE: "send", "watch" or "info");
the host answers ``{"v": VERSION, "hello": INFO}`` or ``{"v": VERSION, "refused":
TEXT}`` and closes. After the hello a client sends

    {"id": N, "line": "gen 2 genre=funk", "cursor": [TRACK, STEP]}   one command line
    {"id": N, "stop": true}                                            stop the host

and the host answers each with ``{"id": N, "ok": BOOL, "text": LINE}``. A watching
client also receives ``{"state": SNAPSHOT}`` whenever what it would draw changes
(HostCore.snapshot). The snapshot's "messages" are the last things the host said,
each ``{"kind": KIND, "text": LINE, "at": SECONDS}`` with "echo" (a command line
before its answer) and "title" where they apply; KIND is "say", "error" (a line
refused), "problem" or "warning" (shown as a notification: autobeat_tui/live/said.py).

Anything else (bytes that are not UTF-8 JSON, a line over MAX_LINE, an unknown
message) drops that client only.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

VERSION = 2  # 2: each message of a snapshot is {"kind", "text", ...} (live/said.py)
MAX_LINE = 1 << 20  # one message; a longer line drops the client
ROLES = ("send", "watch", "info")
RUNTIME_ENV = "AUTOBEAT_RUNTIME_DIR"  # tests and unusual systems: where sockets live


class ProtocolError(Exception):
    """A message that breaks the protocol (the peer is dropped)."""


def runtime_dir() -> Path:
    """The folder of the hosts' sockets: the user's runtime folder, ``autobeat`` in it,
    which must be a folder of this user's that no one else may enter (UserError if not)."""
    import stat
    import warnings

    from autobeat_tui.errors import UserError

    override = os.environ.get(RUNTIME_ENV)
    if override:
        folder = Path(override)
    else:
        from platformdirs import user_runtime_dir

        with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: its /tmp fallback, checked
            warnings.simplefilter("ignore")
            folder = Path(user_runtime_dir("autobeat"))
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise UserError(f"{folder}: cannot make the hosts' folder: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise UserError(f"{folder}: the hosts' folder must be a folder of yours that only "
                        f"you can open (mode 0700); it is not, so no socket is used there")
    return folder


def bank_key(bank_path: Path) -> str:
    """A short name for a bank, the same for every spelling of its path."""
    real = os.path.realpath(bank_path)
    return hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def socket_path(bank_path: Path) -> Path:
    return runtime_dir() / f"host-{bank_key(bank_path)}.sock"


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """One received line (without its newline) as a message, or ProtocolError."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"not a JSON line: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(value).__name__}")
    return value


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end (Linux SO_PEERCRED), None elsewhere."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid


class LineReader:
    """Split a byte stream into lines, refusing one longer than ``limit``."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        lines = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if len(line) > self.limit:
                raise ProtocolError(f"a line of {len(line)} bytes (at most {self.limit})")
            lines.append(line)
        if len(self._buffer) > self.limit:
            raise ProtocolError(f"a line of more than {self.limit} bytes")
        return lines
