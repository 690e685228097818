"""MIDI ports through python-rtmidi, with whatever API the machine has.

``open_output(name)`` picks the first output whose name contains NAME; with no
name it opens a virtual output "AutoBeat out" where the API allows it (ALSA,
JACK, CoreMIDI); where no MIDI system answers at all it returns a ``none`` output
that swallows messages, so the app still runs and can say so.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Protocol

CLIENT_NAME = "AutoBeat"
VIRTUAL_OUT = "AutoBeat out"
VIRTUAL_IN = "AutoBeat clock in"
NONE = "none"
DRAIN_S = 0.05  # before closing an output: time for queued messages to go out

_API_NAMES = {
    "alsa": "LINUX_ALSA",
    "jack": "UNIX_JACK",
    "coremidi": "MACOSX_CORE",
    "core": "MACOSX_CORE",
    "winmm": "WINDOWS_MM",
    "mm": "WINDOWS_MM",
}


def jack_server_id(server: str | None = None) -> tuple[int, int] | None:
    """Which JACK server runs now under ``server`` (default: $JACK_DEFAULT_SERVER or
    "default"): the identity (inode, mtime) of its socket, None if none runs.

    A stat, no client: cheap enough to ask every fraction of a second. A server that
    stopped and started again has a new socket, so a new identity: a client of the
    old one is dead (JACK clients do not survive their server) and must be made anew.
    """
    name = server or os.environ.get("JACK_DEFAULT_SERVER") or "default"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    listening = _listening_sockets()
    for folder in ("/dev/shm", "/tmp"):
        path = f"{folder}/jack_{name}_{uid}_0"
        try:
            st = os.stat(path)
        except OSError:
            continue
        if listening is not None and path not in listening:
            continue  # a socket file left by a server that died: nobody listens there
        return (st.st_ino, st.st_mtime_ns)
    return None


def _listening_sockets() -> set[str] | None:
    """The paths of the listening UNIX sockets (Linux: /proc/net/unix), None elsewhere."""
    try:
        with open("/proc/net/unix", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()[1:]
    except OSError:
        return None
    found = set()
    for line in lines:
        parts = line.split()
        if len(parts) >= 8 and int(parts[3], 16) & 0x10000:  # __SO_ACCEPTCON: listening
            found.add(parts[7])
    return found


class PortError(Exception):
    """A port that cannot be found or opened; the message lists what there is."""


class InputPort(Protocol):
    name: str

    def alive(self) -> bool: ...

    def close(self) -> None: ...


class OutputPort(Protocol):
    name: str

    def send(self, message: list[int]) -> None: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C libraries (ALSA, JACK) that print to fd 2 while probing for a server.

    Only where sys.stderr is a real file: under Textual it is a capture whose
    fileno() is -1 (failing there made every port list in the app empty), and the
    screen itself is drawn on fd 2, which must not be closed under it.
    """
    try:
        fd = sys.stderr.fileno()
        saved = os.dup(fd)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _rtmidi():
    import rtmidi

    return rtmidi


def api_ids(api: str | None = None) -> list[int]:
    """The rtmidi APIs to try, in order: the named one, or every compiled one."""
    rtmidi = _rtmidi()
    compiled = [a for a in rtmidi.get_compiled_api() if a != rtmidi.API_RTMIDI_DUMMY]
    if api is None or api == "auto":
        return compiled
    key = _API_NAMES.get(api.lower())
    if key is None:
        allowed = ", ".join(sorted(set(_API_NAMES) - {"core", "mm"}))
        raise PortError(f"unknown MIDI API {api!r}: use one of {allowed}")
    ident = getattr(rtmidi, f"API_{key}")
    if ident not in compiled:
        names = ", ".join(rtmidi.get_api_name(a) for a in compiled) or "none"
        raise PortError(f"MIDI API {api!r} is not built into python-rtmidi here (built: {names})")
    return [ident]


class _JackLister:
    """rtmidi's client interface (get_ports, get_current_api, delete) for JACK, listing
    through engine.jackmidi.JackPorts: under JACK, ports are opened there too."""

    def __init__(self, ports) -> None:
        self._ports = ports

    def get_ports(self) -> list[str]:
        return self._ports.get_ports()

    def get_current_api(self) -> int:
        return _rtmidi().API_UNIX_JACK

    def period(self) -> tuple[int, int]:
        return self._ports.period()

    def own_output(self) -> bool:
        return self._ports.own_output()

    def delete(self) -> None:
        self._ports.delete()


def _jack_lister(kind: str) -> _JackLister | None:
    """A lister of the running JACK server's ports, or None (no server, no libjack)."""
    from engine.jackmidi import JackMidiError, JackPorts

    try:
        with quiet_stderr():
            return _JackLister(JackPorts(kind, CLIENT_NAME))
    except JackMidiError:
        return None


def _open_client(kind: str, api: str | None):
    """The first MIDI client whose API has a running MIDI system, or None: rtmidi's
    MidiOut/MidiIn, or under JACK a lister of its ports (engine/jackmidi.py)."""
    rtmidi = _rtmidi()
    cls = rtmidi.MidiOut if kind == "out" else rtmidi.MidiIn
    for ident in api_ids(api):
        if ident == rtmidi.API_UNIX_JACK:
            lister = _jack_lister(kind)
            if lister is not None:
                return lister
            continue
        try:
            with quiet_stderr():
                return cls(ident, name=CLIENT_NAME)
        except (SystemError, RuntimeError, rtmidi.RtMidiError):
            continue
    return None


def _list(kind: str, api: str | None) -> list[str]:
    client = _open_client(kind, api)
    if client is None:
        return []
    try:
        with quiet_stderr():
            return list(client.get_ports())
    finally:
        with quiet_stderr():
            client.delete()


def list_outputs(api: str | None = None) -> list[str]:
    """The MIDI outputs the first working API offers (our own virtual one excluded)."""
    return [p for p in _list("out", api) if VIRTUAL_OUT not in p and VIRTUAL_IN not in p]


def list_inputs(api: str | None = None) -> list[str]:
    """The MIDI inputs the first working API offers (our own virtual ones excluded)."""
    return [p for p in _list("in", api) if VIRTUAL_OUT not in p and VIRTUAL_IN not in p]


def midi_system(api: str | None = None) -> str | None:
    """The name of the first API with a running MIDI system ("JACK", "ALSA"...), or None."""
    rtmidi = _rtmidi()
    client = _open_client("out", api)
    if client is None:
        return None
    try:
        return rtmidi.get_api_name(client.get_current_api())
    finally:
        with quiet_stderr():
            client.delete()


def find_port(ports: list[str], fragment: str, kind: str) -> int:
    """The index of the first port whose name contains fragment (case-insensitive)."""
    want = fragment.lower()
    for i, name in enumerate(ports):
        if want in name.lower():
            return i
    listed = ", ".join(repr(p) for p in ports) if ports else "none"
    raise PortError(f"no MIDI {kind} matches {fragment!r}; {kind}s: {listed}")


class PortWatch:
    """Looks for a port by name fragment, cheaply (one idle client, its port list)."""

    def __init__(self, kind: str, fragment: str | None, api: str | None) -> None:
        self.kind = kind
        self.fragment = fragment
        self.api = api
        self._client = None

    def present(self) -> bool:
        if self._client is None:
            self._client = _open_client(self.kind, self.api)
            if self._client is None:
                return False
        try:
            with quiet_stderr():
                names = [p for p in self._client.get_ports()
                         if VIRTUAL_OUT not in p and VIRTUAL_IN not in p]
        except Exception:
            return False
        if self.fragment is None:
            return True
        want = self.fragment.lower()
        return any(want in name.lower() for name in names)

    def close(self) -> None:
        if self._client is not None:
            with quiet_stderr():
                self._client.delete()
            self._client = None


def _target_present(client, target: str | None) -> bool:
    """Whether the port a client connected to is still there (True when it made its own)."""
    if target is None:
        return True
    try:
        with quiet_stderr():
            return target in client.get_ports()
    except Exception:
        return False


class NullOutput:
    """The `none` output: there is no MIDI system; messages go nowhere."""

    name = NONE

    def send(self, message: list[int]) -> None:
        pass

    def close(self) -> None:
        pass

    def alive(self) -> bool:
        return True


class RtOutput:
    """An open rtmidi output: a connection to a named port, or our virtual port."""

    def __init__(self, client, name: str, target: str | None, lead: float = 0.0) -> None:
        self._client = client
        self.lead = lead  # how early to send (engine/process.py): half a JACK period
        self.name = name
        self.target = target  # the port we connect to, None for the virtual port
        self._send = client.send_message

    def send(self, message: list[int]) -> None:
        self._send(message)

    @property
    def is_jack(self) -> bool:
        """Whether this client lives in a JACK server (and dies with it)."""
        try:
            return self._client.get_current_api() == _rtmidi().API_UNIX_JACK
        except Exception:
            return False

    def abandon(self) -> None:
        """Drop a client whose server is gone, without asking that server anything."""
        self._send = lambda message: None
        self._client = None

    def alive(self) -> bool:
        """False once a connected port has gone away (a device unplugged, a client gone)."""
        return _target_present(self._client, self.target)

    def find(self, fragment: str) -> str | None:
        """The first port containing fragment, by this client's (cheap) port list."""
        try:
            with quiet_stderr():
                ports = [p for p in self._client.get_ports() if VIRTUAL_OUT not in p]
        except Exception:
            return None
        from engine.jackmidi import first_containing

        return first_containing(ports, fragment)

    def reconnect(self, fragment: str) -> bool:
        """Move this client's port to the first port containing fragment (a few ms)."""
        target = self.find(fragment)
        if target is None:
            return False
        with quiet_stderr():
            try:
                self._client.close_port()
                ports = list(self._client.get_ports())
                self._client.open_port(ports.index(target), VIRTUAL_OUT)
            except Exception:
                return False
        self.name = self.target = target
        return True

    def close(self) -> None:
        if self._client is None:  # abandoned: its server is gone
            return
        # rtmidi hands messages to the MIDI system's thread (JACK: a ring buffer read
        # each period): give the last ones (All Notes Off) time to leave first
        time.sleep(DRAIN_S)
        with quiet_stderr():
            try:
                self._client.close_port()
            finally:
                self._client.delete()


def open_output(name: str | None = None, api: str | None = None) -> OutputPort:
    """Open an output: the first containing `name`, else a virtual "AutoBeat out".

    Raises PortError (listing the outputs) when `name` matches none. With no MIDI
    system at all and no name, returns the `none` output.
    """
    rtmidi = _rtmidi()
    client = _open_client("out", api)
    if client is None:
        if name and name != NONE:
            raise PortError(f"no MIDI system answers, so there is no output {name!r}")
        return NullOutput()
    if name == NONE:
        client.delete()
        return NullOutput()
    try:
        with quiet_stderr():
            lead = 0.0
            if client.get_current_api() == rtmidi.API_UNIX_JACK:
                if client.own_output():
                    target = None
                    if name:
                        ports = [p for p in client.get_ports() if VIRTUAL_OUT not in p]
                        target = ports[find_port(ports, name, "output")]
                    client.delete()
                    return _open_jack_output(target)
                # a short period: rtmidi's output puts each message on the next period's
                # first frame, on average half a period after it was sent; sending that
                # much early puts it on the period start nearest its due time
                frames, rate = client.period()
                lead = frames / rate / 2.0 if rate else 0.0
                client.delete()
                client = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=CLIENT_NAME)
            if name:
                ports = [p for p in client.get_ports() if VIRTUAL_OUT not in p]
                all_ports = list(client.get_ports())
                index = all_ports.index(ports[find_port(ports, name, "output")])
                client.open_port(index, VIRTUAL_OUT)
                return RtOutput(client, all_ports[index], all_ports[index], lead)
            try:
                client.open_virtual_port(VIRTUAL_OUT)
            except (NotImplementedError, rtmidi.RtMidiError):  # Windows MM: no virtual ports
                ports = client.get_ports()
                if not ports:
                    client.delete()
                    return NullOutput()
                client.open_port(0)
                return RtOutput(client, ports[0], ports[0])
            return RtOutput(client, f"{CLIENT_NAME}:{VIRTUAL_OUT}", None, lead)
    except PortError:
        client.delete()
        raise
    except (SystemError, RuntimeError, rtmidi.RtMidiError) as exc:
        client.delete()
        raise PortError(f"cannot open MIDI output {name or VIRTUAL_OUT!r}: {exc}") from None


def _open_jack_output(target: str | None):
    """Under JACK, an output that puts each message on its own frame (engine/jackmidi.py:
    rtmidi's JACK backend puts them all on the first frame of the next period)."""
    from engine.jackmidi import JackMidiError, JackOutput

    try:
        with quiet_stderr():
            return JackOutput(target, time.perf_counter, CLIENT_NAME, VIRTUAL_OUT)
    except JackMidiError as exc:
        raise PortError(f"cannot open MIDI output {target or VIRTUAL_OUT!r}: {exc}") from None


class RtInput:
    """An open rtmidi input delivering (bytes, time) to a callback from rtmidi's thread.

    Times are seconds on `now`'s clock (time.perf_counter): rtmidi's per-message
    deltas (the MIDI system's own timestamps) summed, placed on our clock by the
    smallest observed offset, so a callback that waited for the GIL does not move them.
    """

    def __init__(self, client, name: str, target: str | None,
                 deliver: Callable[[list[int], float], None], now: Callable[[], float]) -> None:
        self._client = client
        self.name = name
        self.target = target
        self._deliver = deliver
        self._now = now
        self._stream = 0.0
        self._offset: float | None = None
        client.ignore_types(sysex=True, timing=False, active_sense=True)
        client.set_callback(self._callback)

    def _callback(self, event, data=None) -> None:
        arrived = self._now()
        message, delta = event
        self._stream += delta
        offset = arrived - self._stream
        if self._offset is None or offset < self._offset:
            self._offset = offset
        self._deliver(message, self._stream + self._offset)

    def alive(self) -> bool:
        return _target_present(self._client, self.target)

    def abandon(self) -> None:
        """Drop a client whose server is gone, without asking that server anything."""
        self._client = None

    def close(self) -> None:
        if self._client is None:  # abandoned: its server is gone
            return
        with quiet_stderr():
            try:
                self._client.cancel_callback()
                self._client.close_port()
            finally:
                self._client.delete()


def open_input(name: str | None, deliver: Callable[[list[int], float], None],
               now: Callable[[], float], api: str | None = None) -> InputPort:
    """Open the first input containing `name` (or a virtual "AutoBeat clock in").

    Under JACK the input is engine.jackmidi.JackInput (each message timed by its
    frame); elsewhere rtmidi's, timed by the MIDI system's timestamps.
    """
    rtmidi = _rtmidi()
    client = _open_client("in", api)
    if client is None:
        raise PortError("no MIDI system answers, so there is no input to follow")
    try:
        with quiet_stderr():
            all_ports = list(client.get_ports())
            ports = [p for p in all_ports if VIRTUAL_OUT not in p and VIRTUAL_IN not in p]
            target = ports[find_port(ports, name, "input")] if name else None
            if client.get_current_api() != rtmidi.API_UNIX_JACK:
                if target is not None:
                    client.open_port(all_ports.index(target), VIRTUAL_IN)
                    return RtInput(client, target, target, deliver, now)
                client.open_virtual_port(VIRTUAL_IN)
                return RtInput(client, f"{CLIENT_NAME}:{VIRTUAL_IN}", None, deliver, now)
    except PortError:
        client.delete()
        raise
    except (SystemError, RuntimeError, NotImplementedError, rtmidi.RtMidiError) as exc:
        client.delete()
        raise PortError(f"cannot open MIDI input {name or VIRTUAL_IN!r}: {exc}") from None
    # rtmidi stamps JACK messages with the time of their period, not their own frame:
    # clock ticks sharing a period would collapse into one (see engine/jackmidi.py)
    with quiet_stderr():
        client.delete()
    return _open_jack_input(target, deliver, now)


def _open_jack_input(target: str | None, deliver: Callable[[list[int], float], None],
                     now: Callable[[], float]):
    """A JACK input timed by each message's frame (see engine/jackmidi.py)."""
    from engine.jackmidi import JackInput, JackMidiError

    try:
        with quiet_stderr():
            return JackInput(target, deliver, now, CLIENT_NAME, VIRTUAL_IN)
    except JackMidiError as exc:
        raise PortError(f"cannot open MIDI input {target or VIRTUAL_IN!r}: {exc}") from None
