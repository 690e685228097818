"""A JACK MIDI input whose every message carries its own frame time.

python-rtmidi's JACK backend stamps each message with the time JACK's process
callback ran (jack_get_time), not with the message's frame: all the messages of
one period get the same time. At 1024 frames a period (21 ms at 48 kHz) two clock
ticks at 133 BPM (18.8 ms apart) often share a period, and a follower fed those
times hears one tick where there were two. Here each message's time is the frame
it was sent at (the period's first frame plus its offset), turned into seconds by
JACK's own time keeping (jack_frames_to_time), and placed on the engine's clock
by the offset between JACK's clock and ours, measured at open and once a second.

Only libjack through ctypes (jackd2 and PipeWire's JACK both provide it); no
Python is in JACK's thread but the process callback, which copies the messages
out and hands them to `deliver`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

MIDI_TYPE = b"8 bit raw midi"
PORT_IS_INPUT = 0x1
PORT_IS_OUTPUT = 0x2
NO_START_SERVER = 0x01
CALIBRATE_EVERY_S = 1.0  # re-measure the offset between JACK's clock and ours


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
    _lib_cache.append(lib)
    return lib


def clock_offset(jack_us: Callable[[], int], now: Callable[[], float], tries: int = 5) -> float:
    """JACK's clock minus ours (seconds): the reading taken with the least in between."""
    best = None
    for _ in range(tries):
        before = now()
        j = jack_us()
        after = now()
        if best is None or after - before < best[0]:
            best = (after - before, j / 1e6 - (before + after) / 2.0)
    assert best is not None
    return best[1]


def frame_time(last_frame: int, offset: int) -> int:
    """The frame of a message `offset` frames into the period that began at last_frame."""
    return (last_frame + offset) & 0xFFFFFFFF


class JackInput:
    """A JACK MIDI input port delivering (bytes, time) to a callback from JACK's thread.

    Times are seconds on `now`'s clock, each message's own frame time.
    """

    def __init__(self, name: str | None, deliver: Callable[[list[int], float], None],
                 now: Callable[[], float], client_name: str, port_name: str) -> None:
        lib = _lib()
        self._lib = lib
        self._deliver = deliver
        self._now = now
        status = ctypes.c_int(0)
        client = lib.jack_client_open(client_name.encode(), NO_START_SERVER,
                                      ctypes.byref(status))
        if not client:
            raise JackMidiError(f"the JACK server refused a client (status {status.value:#x})")
        self._client = client
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

    def alive(self) -> bool:
        """False once the port we listen to has gone away."""
        if self.target is None:
            return True
        with self._lock:
            if self._closed:
                return False
            return bool(self._lib.jack_port_by_name(self._client, self.target.encode()))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lib.jack_deactivate(self._client)
            self._lib.jack_client_close(self._client)



def half_period() -> float | None:
    """Half a JACK period in seconds, or None without a JACK server.

    rtmidi's JACK output hands every message to the next process cycle, at its first
    frame: on average half a period after it was sent. Sending that much early puts
    each note on the cycle start nearest its due time instead of the next one.
    """
    try:
        lib = _lib()
    except JackMidiError:
        return None
    lib.jack_get_buffer_size.argtypes = [ctypes.c_void_p]
    lib.jack_get_buffer_size.restype = ctypes.c_uint32
    lib.jack_get_sample_rate.argtypes = [ctypes.c_void_p]
    lib.jack_get_sample_rate.restype = ctypes.c_uint32
    status = ctypes.c_int(0)
    client = lib.jack_client_open(b"AutoBeat probe", NO_START_SERVER, ctypes.byref(status))
    if not client:
        return None
    try:
        frames, rate = lib.jack_get_buffer_size(client), lib.jack_get_sample_rate(client)
        return frames / rate / 2.0 if rate else None
    finally:
        lib.jack_client_close(client)
