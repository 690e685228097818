"""The client side of the host's socket: `autobeat send`, `hosts`, `stop`, and the app.

    with HostClient.connect(socket_path(bank), role="send") as host:
        ok, text = host.run("gen 2 genre=funk")

Every failure to reach a host is a HostUnavailable with one line for the user; a
connection never waits more than ``timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any

from autobeat_tui.host import protocol as p

TIMEOUT_S = 10.0


class HostUnavailable(Exception):
    """No host answers there (none running, a stale socket, another version)."""


class HostClient:
    """One connection to a host, after the hello."""

    def __init__(self, sock: socket.socket, info: dict[str, Any], reader: p.LineReader,
                 pending: list[bytes]) -> None:
        self.sock = sock
        self.info = info
        self._reader = reader
        self._lines = pending
        self._next_id = 0
        self.states: list[dict[str, Any]] = []  # snapshots received while waiting

    @classmethod
    def connect(cls, path: Path, role: str = "send", timeout: float = TIMEOUT_S,
                version: int = p.VERSION) -> HostClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except FileNotFoundError:
            sock.close()
            raise HostUnavailable("no host is running") from None
        except ConnectionRefusedError:
            sock.close()
            raise HostUnavailable("no host is running (a dead host's socket is left)") from None
        except OSError as exc:
            sock.close()
            raise HostUnavailable(f"cannot reach the host at {path}: {exc}") from None
        client = cls(sock, {}, p.LineReader(), [])
        try:
            client._send({"v": version, "hello": role})
            reply = client._receive()
        except (OSError, p.ProtocolError) as exc:
            client.close()
            raise HostUnavailable(f"the host at {path} did not answer: {exc}") from None
        if "refused" in reply:
            client.close()
            raise HostUnavailable(f"the host refused: {reply['refused']}")
        client.info = reply.get("hello") or {}
        return client

    def __enter__(self) -> HostClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    # --- messages -----------------------------------------------------------------------

    def _send(self, msg: dict[str, Any]) -> None:
        self.sock.sendall(p.encode(msg))

    def _receive(self) -> dict[str, Any]:
        """The next message (blocking up to the socket's timeout)."""
        while not self._lines:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the host closed the connection")
            self._lines.extend(self._reader.feed(data))
        return p.decode(self._lines.pop(0))

    def _request(self, msg: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        self._send({"id": ident, **msg})
        while True:
            reply = self._receive()
            if "state" in reply:
                self.states.append(reply["state"])
                del self.states[:-2]
                continue
            if "refused" in reply:
                raise HostUnavailable(f"the host refused: {reply['refused']}")
            if reply.get("id") == ident:
                return reply

    def run(self, line: str, cursor: tuple[int, int] | None = None) -> tuple[bool, str]:
        """Run one command line on the host: (done, its one-line answer)."""
        msg: dict[str, Any] = {"line": line}
        if cursor is not None:
            msg["cursor"] = list(cursor)
        reply = self._request(msg)
        return bool(reply.get("ok")), str(reply.get("text", ""))

    def stop_host(self) -> str:
        return str(self._request({"stop": True}).get("text", ""))

    def next_state(self) -> dict[str, Any]:
        """The next snapshot a watching client receives."""
        if self.states:
            return self.states.pop(0)
        while True:
            reply = self._receive()
            if "state" in reply:
                return reply["state"]


def running_hosts(timeout: float = 2.0) -> list[dict[str, Any]]:
    """Every host that answers in the runtime folder: its hello (bank, pid, clients...)."""
    found = []
    folder = p.runtime_dir()
    for path in sorted(folder.glob("host-*.sock")):
        try:
            with HostClient.connect(path, role="info", timeout=timeout) as host:
                found.append({**host.info, "socket": str(path)})
        except HostUnavailable:
            continue
    return found


def host_socket(bank: str | None) -> Path:
    """The socket of the host to talk to: the named bank's; without one, the default
    bank's when it runs, else the only host running. HostUnavailable otherwise."""
    if bank is not None:
        path = p.socket_path(Path(bank))
        if not os.path.lexists(path):
            raise HostUnavailable(f"no host is running for {bank} (autobeat host --bank "
                                  f"{bank} starts one)")
        return path
    from patterns.bank import default_bank_path

    default = p.socket_path(default_bank_path())
    if os.path.lexists(default):
        return default
    hosts = running_hosts()
    if len(hosts) == 1:
        return Path(hosts[0]["socket"])
    if not hosts:
        raise HostUnavailable("no host is running (autobeat host starts one)")
    banks = ", ".join(h.get("bank", "?") for h in hosts)
    raise HostUnavailable(f"{len(hosts)} hosts are running ({banks}): name one with --bank")
