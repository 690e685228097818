"""The host's socket: clients come and go, the session plays on.

One thread runs ``serve()``: a selector over the listening socket, the clients and
a wake-up pipe (the model's worker uses it), ticking the core about 60 times a
second. A client that breaks the protocol is dropped alone; SIGHUP is ignored, so
the host outlives the terminal that started it; SIGTERM, SIGINT and a client's
``stop`` end it cleanly (the engine sends All Notes Off).
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from autobeat_tui.host import protocol as p

TICK_S = 1 / 60
MAX_BACKLOG = 8 << 20  # bytes waiting for a client that does not read: then it is dropped


class HostExists(Exception):
    """Another live host listens on this socket."""


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = p.LineReader()
        self.role = ""  # set by the hello
        self.out = bytearray()
        self.closing = False  # drop once `out` is sent

    @property
    def attached(self) -> bool:
        return self.role in ("send", "watch")


def claim_socket(path: Path) -> None:
    """Make the path free for a new host: a live host there raises HostExists; a socket
    left by a dead one is removed. Never waits more than a second."""
    if not os.path.lexists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except TimeoutError:
        raise HostExists(f"a host listens on {path} but does not answer") from None
    except OSError:  # refused, gone, not a socket: nobody listens there
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    finally:
        probe.close()
    raise HostExists(f"a host already listens on {path}")


def listen(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0600 from the start."""
    claim_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(16)
    sock.setblocking(False)
    return sock


class HostServer:
    """Serve one HostCore on a Unix socket until stopped."""

    def __init__(self, core: Any, path: Path, info: dict[str, Any]) -> None:
        self.core = core
        self.path = path
        self.info = info  # bank, pid: said to every client's hello
        self.clients: dict[int, _Client] = {}
        self.stopping = False
        self.stop_reason = ""
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._last_state: bytes = b""

    # --- set-up ---------------------------------------------------------------------

    def open(self) -> None:
        self._listener = listen(self.path)
        self._selector.register(self._listener, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self.core.wake = self.wake

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def install_signals(self) -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the terminal went: play on

        def stop(signum, _frame) -> None:
            self.stop(f"signal {signal.Signals(signum).name}")

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def stop(self, reason: str) -> None:
        self.stopping = True
        self.stop_reason = reason
        self.wake()

    # --- the loop -------------------------------------------------------------------

    def serve(self) -> None:
        next_tick = time.monotonic()
        while not self.stopping:
            timeout = max(0.0, next_tick - time.monotonic())
            for key, mask in self._selector.select(timeout):
                if key.data == "listen":
                    self._accept()
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError, OSError):
                        os.read(self._wake_r, 4096)
                else:
                    client = self.clients.get(key.fd)
                    if client is None:
                        continue
                    if mask & selectors.EVENT_READ:
                        self._read(client)
                    if mask & selectors.EVENT_WRITE and client.sock.fileno() >= 0:
                        self._write(client)
            now = time.monotonic()
            if now >= next_tick:
                try:
                    self.core.tick()
                    self._push_state()
                except Exception:  # noqa: BLE001 - a bug: in the log, the music plays on
                    traceback.print_exc()
                next_tick = max(next_tick + TICK_S, now)

    def close(self) -> None:
        for client in list(self.clients.values()):
            self._drop(client)
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._selector.close()

    # --- clients --------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    return  # out of descriptors: the next tick tries again
                raise
            uid = p.peer_uid(sock)
            if uid is not None and uid != os.getuid():
                sock.close()  # another user: not a word
                continue
            sock.setblocking(False)
            client = _Client(sock)
            self.clients[sock.fileno()] = client
            self._selector.register(sock, selectors.EVENT_READ, "client")

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        try:
            for line in client.reader.feed(data):
                self._handle(client, p.decode(line))
                if client.closing or client.sock.fileno() < 0:
                    return
        except p.ProtocolError as exc:
            self._refuse(client, f"protocol error: {exc}")

    def _handle(self, client: _Client, msg: dict[str, Any]) -> None:
        if not client.role:
            version = msg.get("v")
            if version != p.VERSION:
                self._refuse(client, f"protocol version {version!r} is not spoken here: "
                                     f"this host speaks version {p.VERSION}")
                return
            role = msg.get("hello")
            if role not in p.ROLES:
                self._refuse(client, f"hello: a role of {', '.join(p.ROLES)} expected, "
                                     f"got {role!r:.40}")
                return
            client.role = role
            self._send(client, {"v": p.VERSION, "hello": self.describe()})
            if role == "info":
                client.closing = True
            elif role == "watch":
                self._send(client, {"state": self.core.snapshot()})
            return
        ident = msg.get("id")
        if "line" in msg:
            line, cursor = msg["line"], msg.get("cursor")
            if not isinstance(line, str) or "\n" in line:
                self._refuse(client, "line: one command line (a string) expected")
                return
            if cursor is not None and not _is_cursor(cursor):
                self._refuse(client, "cursor: [track 1-12, step 0-31] expected")
                return
            try:
                ok, text = self.core.run_line(line, tuple(cursor) if cursor else None)
            except Exception as exc:  # noqa: BLE001 - a bug: in the log, the music plays on
                traceback.print_exc()
                ok, text = False, f"internal error: {exc!r} (the host's log has the details)"
            self._send(client, {"id": ident, "ok": ok, "text": text})
        elif msg.get("stop") is True:
            self._send(client, {"id": ident, "ok": True, "text": "host stopped; music off"})
            self._flush_quietly(client)
            self.stop("stop asked by a client")
        else:
            self._refuse(client, f"unknown message with keys {sorted(msg)[:5]}")

    def describe(self) -> dict[str, Any]:
        return {
            **self.info,
            "version": p.VERSION,
            "clients": sum(1 for c in self.clients.values() if c.attached),
            "playing": self.core.session.engine.playing,
            "slot": self.core.session.slot,
        }

    def _refuse(self, client: _Client, text: str) -> None:
        """Tell the client what was wrong (best effort) and drop it."""
        self._send(client, {"v": p.VERSION, "refused": text})
        self._flush_quietly(client)
        self._drop(client)

    def _flush_quietly(self, client: _Client) -> None:
        with contextlib.suppress(OSError):
            sent = client.sock.send(bytes(client.out))
            del client.out[:sent]

    def _send(self, client: _Client, msg: dict[str, Any]) -> None:
        self._queue(client, p.encode(msg))

    def _queue(self, client: _Client, data: bytes) -> None:
        if client.sock.fileno() < 0:
            return
        client.out += data
        if len(client.out) > MAX_BACKLOG:
            self._drop(client)  # it does not read: it will not hold the host back
            return
        self._write(client)

    def _write(self, client: _Client) -> None:
        try:
            sent = client.sock.send(bytes(client.out))
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(client)
            return
        del client.out[:sent]
        if not client.out and client.closing:
            self._drop(client)
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.out else 0)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.modify(client.sock, events, "client")

    def _drop(self, client: _Client) -> None:
        fd = client.sock.fileno()
        if fd < 0:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(client.sock)
        self.clients.pop(fd, None)
        client.sock.close()

    def _push_state(self) -> None:
        watchers = [c for c in self.clients.values() if c.role == "watch"]
        if not self.core.changed:
            return
        self.core.changed = False
        if not watchers:
            return
        data = p.encode({"state": self.core.snapshot()})
        if data == self._last_state:
            return
        self._last_state = data
        for client in watchers:
            self._queue(client, data)


def _is_cursor(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 1 <= value[0] <= 12 and 0 <= value[1] <= 31)
