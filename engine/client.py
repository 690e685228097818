"""The owner's side of the engine: start the process, send commands, poll reports.

    engine = Engine(out="TR-8S", send_clock=True)
    engine.start()
    engine.send(SetPattern(pattern)); engine.send(Transport("start"))
    for report in engine.poll(): ...
    engine.stop()
"""

from __future__ import annotations

import multiprocessing
import os

from engine import messages as m
from engine.process import EngineConfig, main
from engine.report_queue import ReportQueue
from patterns.kit import KitMap

JOIN_S = 2.0


def default_log_path() -> str:
    """The engine's log (what C libraries print): ``autobeat-engine-UID.log`` in the temp
    folder, or $AUTOBEAT_ENGINE_LOG."""
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.environ.get("AUTOBEAT_ENGINE_LOG") or os.path.join(
        tempfile.gettempdir(), f"autobeat-engine-{uid}.log")


class Engine:
    """The realtime engine in its own process (see engine/process.py)."""

    def __init__(
        self,
        out: str | None = None,
        clock_in: str | None = None,
        send_clock: bool = False,
        latency_ms: float = 0.0,
        api: str | None = None,
        *,
        external: bool = False,
        link: bool = False,
        kit: KitMap | None = None,
        record: bool = False,
        realtime: bool = True,
        audio: str = "off",
        kit_dir: str | None = None,
        audio_backend: str | None = None,
        log_path: str | None = "",
    ) -> None:
        if log_path == "":
            log_path = default_log_path()
        self.config = EngineConfig(
            out=out, clock_in=clock_in, send_clock=send_clock, latency_ms=latency_ms, api=api,
            kit=kit, external=external, link=link, record=record, realtime=realtime, audio=audio,
            kit_dir=kit_dir, audio_backend=audio_backend, log_path=log_path,
        )
        self._process = None
        self._conn = None
        self._stopped = False

    def start(self) -> None:
        """Spawn the engine process (it opens its ports and reports an EngineState)."""
        if self._process is not None:
            raise RuntimeError("the engine is already started")
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe(duplex=True)
        config = EngineConfig(**{
            **{f: getattr(self.config, f) for f in self.config.__slots__},
            "parent_pid": os.getpid(),
        })
        self._process = ctx.Process(target=main, args=(theirs, config), name="autobeat-engine",
                                    daemon=True)
        self._process.start()
        theirs.close()
        self._conn = ours

    def send(self, command) -> None:
        """Send any command of engine/messages.py; a dead engine raises RuntimeError."""
        if self._conn is None:
            raise RuntimeError("the engine is not started")
        try:
            self._conn.send(command)
        except (BrokenPipeError, OSError) as exc:
            raise RuntimeError(f"the engine process is gone: {exc}") from None

    def poll(self) -> list:
        """Every report waiting (non-blocking); EngineStates collapsed to the newest, last."""
        if self._conn is None:
            return []
        reports = ReportQueue()
        try:
            while self._conn.poll():
                reports.put(self._conn.recv())
        except (EOFError, OSError):
            pass
        return reports.drain()

    def wait_for(self, kind: type, timeout: float = 5.0):
        """Block until a report of this type arrives (for scripts and tests), or None.

        Reports of other types that arrive meanwhile are dropped.
        """
        import time

        end = time.monotonic() + timeout
        while self._conn is not None:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                if not self._conn.poll(left):
                    return None
                report = self._conn.recv()
            except (EOFError, OSError):
                return None
            if isinstance(report, kind):
                return report
        return None

    def stop(self) -> None:
        """Shutdown (the engine sends All Notes Off), join, kill if it hangs. Idempotent."""
        if self._process is None or self._stopped:
            return
        self._stopped = True
        try:
            if self._conn is not None:
                self._conn.send(m.Shutdown())
        except (BrokenPipeError, OSError):
            pass
        self._process.join(JOIN_S)
        if self._process.is_alive():
            self._process.terminate()  # SIGTERM: it still sends All Notes Off
            self._process.join(JOIN_S)
        if self._process.is_alive():  # stuck inside the MIDI system: no more waiting
            self._process.kill()
            self._process.join(JOIN_S)
        if self._conn is not None:
            self._conn.close()

    def restart(self) -> None:
        """Start a new engine process after this one stopped (killed, crashed)."""
        self.stop()
        self._process = None
        self._conn = None
        self._stopped = False
        self.start()

    def panic(self, output: str | None = None) -> bool:
        """After the engine process died without its own All Notes Off (kill -9): open the
        output it played to and send, on every channel of the kit, a note-off for each
        of the kit's notes, then All Sound Off and All Notes Off. True if it was sent.

        The output is the one the engine reported (``EngineState.output``), else the one
        it was asked for; its own virtual port died with it, so there is nothing to
        silence there (whatever listened to it lost the connection with it).
        """
        from engine.ports import NONE, PortError, open_output
        from patterns.kit import KitMap

        name = output if output and output != NONE else self.config.out
        if not name or name == NONE or "AutoBeat" in name:
            return False
        try:
            port = open_output(name, self.config.api)
        except PortError:
            return False
        if getattr(port, "name", NONE) == NONE:
            return False
        kit = self.config.kit or KitMap.general_midi()
        try:
            for track in range(1, 13):
                port.send([0x80 | (kit.channel(track) - 1), kit.note(track), 0])
            for channel in sorted({kit.channel(t) - 1 for t in range(1, 13)}):
                port.send([0xB0 | channel, 120, 0])  # All Sound Off
                port.send([0xB0 | channel, 123, 0])  # All Notes Off
        finally:
            port.close()
        return True

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive() and not self._stopped

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
