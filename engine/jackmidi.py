"""A JACK MIDI input whose every message carries its own frame time.

python-rtmidi's JACK backend stamps each message with the time JACK's process
callback ran (jack_get_time), not with the message's frame: all the messages of
one period get the same time. At 1024 frames a period (21 ms at 48 kHz) two clock
ticks at 133 BPM (18.8 ms apart) often share a period, and a follower fed those
times hears one tick where there were two. Here each message's time is the frame
it was sent at (the period's first frame plus its offset), turned into seconds by
JACK's own time keeping (jack_frames_to_time), and placed on the engine's clock
by the offset between JACK's clock and ours, measured at open and once a second.

The output has the same fault the other way: rtmidi's JACK backend writes every
message at the first frame of the next period, so a note lands anywhere up to a
period late (21 ms at 1024 frames a period). ``JackOutput`` writes each message at
its own frame instead: the time it was sent plus one period, so every message is
late by exactly one period, which the engine sends early (``lead``). What is left
is the engine's own lateness, at any buffer size.

Only libjack through ctypes (jackd2 and PipeWire's JACK both provide it); no
Python is in JACK's thread but the process callbacks, which copy the messages in
or out. The engine lists JACK's ports here too (``JackPorts``), never through
rtmidi: python-rtmidi keeps the GIL while its JACK client closes, and the close
waits for a JACK cycle that our callbacks cannot finish without the GIL (a
deadlock); ctypes lets go of the GIL in every call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections import deque
from collections.abc import Callable

from engine.clockstats import tightest

MIDI_TYPE = b"8 bit raw midi"
PORT_IS_INPUT = 0x1
PORT_IS_OUTPUT = 0x2
NO_START_SERVER = 0x01
CALIBRATE_EVERY_S = 1.0  # re-measure the offset between JACK's clock and ours
DRAIN_MAX_S = 0.25  # closing an output: wait at most this for its last messages to go
# JackOutput from this many frames a period, or on a realtime server at any size:
# there Python's callback has time enough (waiting for the GIL takes up to 0.5 ms;
# a realtime server runs it in a realtime thread), and rtmidi's placement would
# cost up to a period. On a server without realtime at a short period, a callback
# the OS runs late (past its period's end) loses that period's messages, while
# rtmidi's output is within its short period.
OWN_OUTPUT_FRAMES = 256


class JackMidiError(Exception):
    """libjack is missing, or the server refused a client or a port."""


class _Event(ctypes.Structure):
    _fields_ = [("time", ctypes.c_uint32), ("size", ctypes.c_size_t),
                ("buffer", ctypes.POINTER(ctypes.c_ubyte))]


_PROCESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)
_lib_cache: list = []


def _lib():
    if _lib_cache:
        return _lib_cache[0]
    path = ctypes.util.find_library("jack") or "libjack.so.0"
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        raise JackMidiError(f"libjack is not installed: {exc}") from None
    vp, u32, u64, cp = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_char_p
    lib.jack_client_open.restype = vp
    lib.jack_client_close.argtypes = [vp]
    lib.jack_get_client_name.argtypes = [vp]
    lib.jack_get_client_name.restype = cp
    lib.jack_port_register.argtypes = [vp, cp, cp, ctypes.c_ulong, ctypes.c_ulong]
    lib.jack_port_register.restype = vp
    lib.jack_port_name.argtypes = [vp]
    lib.jack_port_name.restype = cp
    lib.jack_port_by_name.argtypes = [vp, cp]
    lib.jack_port_by_name.restype = vp
    lib.jack_set_process_callback.argtypes = [vp, _PROCESS, vp]
    lib.jack_activate.argtypes = [vp]
    lib.jack_deactivate.argtypes = [vp]
    lib.jack_connect.argtypes = [vp, cp, cp]
    lib.jack_port_get_buffer.argtypes = [vp, u32]
    lib.jack_port_get_buffer.restype = vp
    lib.jack_midi_get_event_count.argtypes = [vp]
    lib.jack_midi_get_event_count.restype = u32
    lib.jack_midi_event_get.argtypes = [ctypes.POINTER(_Event), vp, u32]
    lib.jack_last_frame_time.argtypes = [vp]
    lib.jack_last_frame_time.restype = u32
    lib.jack_frames_to_time.argtypes = [vp, u32]
    lib.jack_frames_to_time.restype = u64
    lib.jack_get_time.restype = u64
    lib.jack_get_ports.argtypes = [vp, cp, cp, ctypes.c_ulong]
    lib.jack_get_ports.restype = ctypes.POINTER(cp)
    lib.jack_free.argtypes = [vp]
    lib.jack_get_buffer_size.argtypes = [vp]
    lib.jack_get_buffer_size.restype = u32
    lib.jack_get_sample_rate.argtypes = [vp]
    lib.jack_get_sample_rate.restype = u32
    lib.jack_time_to_frames.argtypes = [vp, u64]
    lib.jack_time_to_frames.restype = u32
    lib.jack_midi_clear_buffer.argtypes = [vp]
    lib.jack_midi_event_write.argtypes = [vp, u32, ctypes.c_char_p, ctypes.c_size_t]
    lib.jack_midi_event_write.restype = ctypes.c_int
    lib.jack_disconnect.argtypes = [vp, cp, cp]
    lib.jack_is_realtime.argtypes = [vp]
    _lib_cache.append(lib)
    return lib


def clock_offset(jack_us: Callable[[], int], now: Callable[[], float], tries: int = 5) -> float:
    """JACK's clock minus ours (seconds): the reading taken with the least in between."""
    mid, jack = tightest(now, jack_us, tries)
    return jack / 1e6 - mid


def frame_time(last_frame: int, offset: int) -> int:
    """The frame of a message `offset` frames into the period that began at last_frame."""
    return (last_frame + offset) & 0xFFFFFFFF


class _JackClient:
    """What our JACK clients share: the port they are connected to, and leaving."""

    _lib: ctypes.CDLL
    _client: int
    _closed: bool
    _lock: threading.Lock
    target: str | None

    def alive(self) -> bool:
        """False once the port we are connected to has gone away."""
        if self.target is None:
            return True
        with self._lock:
            if self._closed:
                return False
            return bool(self._lib.jack_port_by_name(self._client, self.target.encode()))

    def _leave(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lib.jack_deactivate(self._client)
            self._lib.jack_client_close(self._client)


class JackInput(_JackClient):
    """A JACK MIDI input port delivering (bytes, time) to a callback from JACK's thread.

    Times are seconds on `now`'s clock, each message's own frame time.
    """

    def __init__(self, name: str | None, deliver: Callable[[list[int], float], None],
                 now: Callable[[], float], client_name: str, port_name: str) -> None:
        lib = _lib()
        self._lib = lib
        self._deliver = deliver
        self._now = now
        client = self._client = _open_client(lib, client_name)
        self._closed = False
        self._lock = threading.Lock()
        port = lib.jack_port_register(client, port_name.encode(), MIDI_TYPE, PORT_IS_INPUT, 0)
        if not port:
            lib.jack_client_close(client)
            raise JackMidiError(f"JACK refused the port {port_name!r}")
        self._port = port
        self._event = _Event()
        self._offset = clock_offset(lib.jack_get_time, now)
        self._next_calibration = now() + CALIBRATE_EVERY_S
        self._callback = _PROCESS(self._process)  # kept: JACK holds only the pointer
        lib.jack_set_process_callback(client, self._callback, None)
        if lib.jack_activate(client) != 0:
            lib.jack_client_close(client)
            raise JackMidiError("JACK did not activate the clock input's client")
        own = lib.jack_port_name(port).decode(errors="replace")
        self.target = name
        self.name = name if name is not None else own
        if name is not None and lib.jack_connect(client, name.encode(), own.encode()) not in (
            0, 17,  # EEXIST: already connected
        ):
            self.close()
            raise JackMidiError(f"JACK did not connect {name!r} to {own!r}")

    def _process(self, nframes: int, arg) -> int:
        lib, client = self._lib, self._client
        try:
            buf = lib.jack_port_get_buffer(self._port, nframes)
            count = lib.jack_midi_get_event_count(buf)
            if not count:
                return 0
            now = self._now()
            if now >= self._next_calibration:
                self._next_calibration = now + CALIBRATE_EVERY_S
                self._offset = clock_offset(lib.jack_get_time, self._now, tries=3)
            first = lib.jack_last_frame_time(client)
            event = self._event
            for i in range(count):
                if lib.jack_midi_event_get(ctypes.byref(event), buf, i) != 0 or not event.size:
                    continue
                data = event.buffer[: event.size]
                if data[0] == 0xF0:  # SysEx: never clock
                    continue
                us = lib.jack_frames_to_time(client, frame_time(first, event.time))
                self._deliver(data, us / 1e6 - self._offset)
        except Exception:  # never raise into JACK's thread
            pass
        return 0

    def close(self) -> None:
        self._leave()



def _open_client(lib, client_name: str):
    status = ctypes.c_int(0)
    client = lib.jack_client_open(client_name.encode(), NO_START_SERVER, ctypes.byref(status))
    if not client:
        raise JackMidiError(f"the JACK server refused a client (status {status.value:#x})")
    return client


def _port_names(lib, client, flags: int) -> list[str]:
    """The server's MIDI ports with these flags (PORT_IS_INPUT: those one sends to)."""
    names = lib.jack_get_ports(client, None, MIDI_TYPE, flags)
    if not names:
        return []
    out = []
    try:
        i = 0
        while names[i]:
            out.append(names[i].decode(errors="replace"))
            i += 1
    finally:
        lib.jack_free(names)
    return out


def first_containing(names: list[str], fragment: str) -> str | None:
    """The first name containing fragment, case-insensitive (how --out picks a port)."""
    want = fragment.lower()
    return next((name for name in names if want in name.lower()), None)


def _signed32(frames: int) -> int:
    """A difference of two wrapping 32-bit frame counters, as a signed number."""
    frames &= 0xFFFFFFFF
    return frames - (1 << 32) if frames & 0x80000000 else frames


class JackOutput(_JackClient):
    """A JACK MIDI output that writes each message at its own frame (see the module's doc).

    `send` stamps a message with the time it was called; JACK's thread writes it at
    the frame of that time plus one period, `lead` seconds: a constant delay that
    the engine makes up by sending that much early. The interface is rtmidi's
    output's (engine.ports.RtOutput): send, alive, find, reconnect, abandon, close.
    """

    is_jack = True

    def __init__(self, target: str | None, now: Callable[[], float], client_name: str,
                 port_name: str) -> None:
        lib = self._lib = _lib()
        self._now = now
        self._client = _open_client(lib, client_name)
        self._closed = False
        self._lock = threading.Lock()
        self._queue: deque[tuple[float, bytes]] = deque()
        port = lib.jack_port_register(self._client, port_name.encode(), MIDI_TYPE,
                                      PORT_IS_OUTPUT, 0)
        if not port:
            lib.jack_client_close(self._client)
            raise JackMidiError(f"JACK refused the port {port_name!r}")
        self._port = port
        self.own = lib.jack_port_name(port).decode(errors="replace")
        frames = lib.jack_get_buffer_size(self._client)
        rate = lib.jack_get_sample_rate(self._client) or 48000
        self._rate = rate
        self._frames = frames
        self.lead = frames / rate  # one period: how early the engine sends
        self._offset_us = clock_offset(lib.jack_get_time, now) * 1e6
        self._next_calibration = now() + CALIBRATE_EVERY_S
        self._callback = _PROCESS(self._process)  # kept: JACK holds only the pointer
        lib.jack_set_process_callback(self._client, self._callback, None)
        if lib.jack_activate(self._client) != 0:
            lib.jack_client_close(self._client)
            raise JackMidiError("JACK did not activate the output's client")
        self.target = target
        self.name = self.own
        if target is not None:
            if lib.jack_connect(self._client, self.own.encode(), target.encode()) not in (0, 17):
                self.close()
                raise JackMidiError(f"JACK did not connect {self.own!r} to {target!r}")
            self.name = target

    def send(self, message: list[int]) -> None:
        self._queue.append((self._now(), bytes(message)))

    def _process(self, nframes: int, arg) -> int:
        lib, client = self._lib, self._client
        try:
            buf = lib.jack_port_get_buffer(self._port, nframes)
            lib.jack_midi_clear_buffer(buf)
            if nframes != self._frames:  # the server's period changed (PipeWire may)
                self._frames = nframes
                self.lead = nframes / self._rate
            queue = self._queue
            if not queue:
                return 0
            now = self._now()
            if now >= self._next_calibration:
                self._next_calibration = now + CALIBRATE_EVERY_S
                self._offset_us = clock_offset(lib.jack_get_time, self._now, tries=3) * 1e6
            first = lib.jack_last_frame_time(client)
            offset_us = self._offset_us
            at = 0
            while queue:
                sent, data = queue[0]
                frame = lib.jack_time_to_frames(client, int(sent * 1e6 + offset_us)) + nframes
                at = max(at, _signed32(frame - first))  # in order; a late one at once
                if at >= nframes:
                    break  # a later period's
                lib.jack_midi_event_write(buf, at, data, len(data))
                queue.popleft()
        except Exception:  # never raise into JACK's thread
            pass
        return 0

    def find(self, fragment: str) -> str | None:
        """The first port to send to whose name contains fragment."""
        with self._lock:
            if self._closed:
                return None
            ports = _port_names(self._lib, self._client, PORT_IS_INPUT)
        return first_containing(ports, fragment)

    def reconnect(self, fragment: str) -> bool:
        """Send to the first port containing fragment instead (a device plugged back)."""
        target = self.find(fragment)
        if target is None:
            return False
        with self._lock:
            if self._closed:
                return False
            lib, own = self._lib, self.own.encode()
            if self.target is not None:
                lib.jack_disconnect(self._client, own, self.target.encode())
            if lib.jack_connect(self._client, own, target.encode()) not in (0, 17):
                return False
        self.name = self.target = target
        return True

    def abandon(self) -> None:
        """Drop a client whose server is gone, without asking that server anything."""
        with self._lock:
            self._closed = True
        self.send = lambda message: None  # type: ignore[method-assign]

    def close(self) -> None:
        """Let the last messages (All Notes Off) go out, then leave the server."""
        deadline = time.monotonic() + DRAIN_MAX_S
        while self._queue and not self._closed and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(min(self.lead, DRAIN_MAX_S))  # the period that holds them
        self._leave()


class JackPorts:
    """A JACK client that only lists ports (never activated), as rtmidi's clients do for
    a kind: "out" lists the ports one can send to, "in" those one can listen to (see
    the module's doc for why not through rtmidi)."""

    def __init__(self, kind: str, client_name: str) -> None:
        self._lib = _lib()
        self._flags = PORT_IS_INPUT if kind == "out" else PORT_IS_OUTPUT
        self._client = _open_client(self._lib, client_name)

    def get_ports(self) -> list[str]:
        return _port_names(self._lib, self._client, self._flags)

    def period(self) -> tuple[int, int]:
        """(frames a period, frames a second) of the server."""
        lib = self._lib
        return lib.jack_get_buffer_size(self._client), lib.jack_get_sample_rate(self._client)

    def own_output(self) -> bool:
        """Whether our JackOutput serves this server (OWN_OUTPUT_FRAMES), else rtmidi's."""
        frames, _ = self.period()
        return frames >= OWN_OUTPUT_FRAMES or bool(self._lib.jack_is_realtime(self._client))

    def delete(self) -> None:
        if self._client:
            self._lib.jack_client_close(self._client)
            self._client = None
