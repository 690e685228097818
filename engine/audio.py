"""The sound card output: the built-in kit (or a kit folder) played in the engine process.

Why miniaudio: it has wheels for Linux, macOS and Windows with the C library
inside (no system PortAudio or JACK needed), covers ALSA, PulseAudio, JACK,
CoreAudio and WASAPI, and has a null backend that runs the same callback on a
timer with no sound card, so tests and ``autobeat bench audio`` run real time
anywhere.

How a hit gets to its sample: the device's callback (miniaudio's thread, in the
engine process, never the app) asks for the next block. The output keeps a
*shadow* engine.player.Player that gets every command the engine's player gets,
at the same times, so mute, solo, swing, offsets, tempo and bar-quantised swaps
are the player's own. For each block it runs the shadow player up to the time the
block's last sample will sound and hands its note-ons to the mixer at the sample
their due time maps to. Sample s sounds at ``origin + s / rate``: origin is the
first callback's time plus the device's buffer, slowly corrected toward the
callbacks' times so the sound card's clock may drift from ours. Starting asks the
players for a lead (``lead_s``) so the first downbeat lies beyond what the device
already holds.

Measured (``stats()``): callbacks, dropouts (the device pulled later than its
buffer lasts: it ran dry), hits that came too late for their sample, the time a
callback took, and with ``record`` the rendered stream for onset detection.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine import messages as m
from engine.drumsynth import DEFAULT_RATE, Sound
from engine.hits import SHADOW_KIT, FakeClock, HitCollector, advance
from engine.mixer import Mixer
from engine.player import START_LEAD, Player

AUDIO = "audio"
PERIOD_MS = 10
# the buffer: 3 periods of 10 ms, the smallest that ran 5 minutes on the null backend
# (which itself pulls in bursts of about 10 ms) without running dry on a shared 2-core
# VM; 2 dropped out once in 5 minutes there. AUTOBEAT_AUDIO_PERIODS picks 2..8.
PERIODS = 3
MIN_PERIODS, MAX_PERIODS = 2, 8
CHANNELS = 2
FREEWHEEL_AUDIO = 8  # clock ticks past the master's last the shadow player may run
AUDIO_PRIORITY = 60  # SCHED_FIFO priority of the device's thread (the engine's loop: 70)
DRIFT_WINDOW = 200  # callbacks (2 s): the earliest pull in each tells the device's clock
DRIFT_GAIN = 0.1  # how much of the device's drift origin follows each window
MAX_RECORD_S = 330.0  # record: keep at most this much of the stream
BACKEND_NAMES = ("alsa", "pulseaudio", "jack", "coreaudio", "wasapi", "dsound", "winmm",
                 "sndio", "audio4", "oss", "null")


class AudioError(Exception):
    """No audio device, or one that failed: one line for the user."""


@dataclass(frozen=True)
class AudioStats:
    """What `autobeat bench audio` reads from a running output."""

    backend: str
    rate: int
    period_frames: int
    periods: int
    latency_s: float  # the device's buffer: how long after its callback a sample sounds
    callbacks: int
    dropouts: int  # times the device ran dry (a run of callbacks later than the buffer lasts)
    late_hits: int  # hits that started after their sample
    late_by_s: tuple[float, ...]
    callback_s: tuple[float, ...]  # how long each callback took (the last 100000)
    lag_s: tuple[float, ...]  # how far behind the device's clock each callback came
    hits: tuple[tuple[float, int, int], ...]  # (due time, asked sample, track) while recording
    onsets: tuple[int, ...]  # onsets detected in the recorded stream (samples)
    origin: float  # the time of sample 0 (the mapping at the end)
    priority: str = ""  # how the device's thread is scheduled
    dropout_events: tuple[tuple[float, float], ...] = ()  # (seconds into the run, worst lag)


def backend_list(name: str | None):
    """The miniaudio backends to try: the named one, or every one but null."""
    import miniaudio

    if name is None or name == "auto":
        return [b for b in miniaudio.Backend if b.name.lower() not in ("null", "custom")]
    key = name.lower()
    if key == "pulse":
        key = "pulseaudio"
    if key not in BACKEND_NAMES:
        raise AudioError(f"unknown audio backend {name!r}: use one of {', '.join(BACKEND_NAMES)}")
    return [miniaudio.Backend[key.upper()]]


class AudioOutput:
    """The kit on a sound card; see the module docstring."""

    def __init__(self, sounds: Sequence[Sound], latency_ms: float = 0.0,
                 backend: str | None = None, rate: int = DEFAULT_RATE,
                 clock: Callable[[], float] = time.perf_counter, record: bool = False,
                 realtime: bool = False, open_device: bool = True,
                 periods: int = PERIODS) -> None:
        if not MIN_PERIODS <= periods <= MAX_PERIODS:
            raise AudioError(f"the audio buffer must be {MIN_PERIODS}..{MAX_PERIODS} periods of "
                             f"{PERIOD_MS} ms, got {periods}")
        self.rate = rate
        self.periods = periods
        self.realtime = realtime  # raise the callback thread to SCHED_FIFO where allowed
        self.thread_priority = ""
        self.clock = clock
        self.record = record
        self.period = rate * PERIOD_MS // 1000
        self.latency_s = periods * self.period / rate
        # the first downbeat after Start must lie beyond what the device may already hold:
        # its buffer, as much again when it pulls early (the null backend's bursts, a
        # device filling its buffer), the block being rendered, and a little slack
        self.lead_s = 2 * self.latency_s + PERIOD_MS / 1000.0 + 0.005
        self.mixer = Mixer(sounds, rate)
        self.mixer.keep_started = record
        self._shadow_clock = FakeClock(clock())
        self.player = Player(None, self._shadow_clock, SHADOW_KIT, latency_ms)
        self.collector = HitCollector(self._shadow_clock, lambda: self.player.latency)
        self.player.out = self.collector
        self.player.start_lead = max(START_LEAD, self.lead_s)
        # following a master: compute hits as far ahead as the device may ask for them,
        # on the follower's predicted timeline (what is rendered ahead is at most lead_s)
        self.player.freewheel_clocks = FREEWHEEL_AUDIO
        self.lock = threading.Lock()
        self.origin: float | None = None
        self.frames = 0
        self.callbacks = 0
        self.dropouts = 0
        self.errors = 0
        self.last_error = ""
        self._min_err: float | None = None
        self._window_min = float("inf")
        self._window_count = 0
        self._reference: float | None = None
        self._dry = False
        self.dropout_events: list[list[float]] = []
        self.callback_s: list[float] = []
        self.lag_s: list[float] = []
        self.recorded_hits: list[tuple[float, int, int]] = []
        self._blocks: list[np.ndarray] = []
        self._device = None
        self.backend = ""
        if open_device:  # (tests drive fill() themselves without one)
            self._open(backend)

    # --- the device -------------------------------------------------------------------

    def _open(self, backend: str | None) -> None:
        try:
            import miniaudio
        except ImportError as exc:  # a broken install: say so, MIDI plays on
            raise AudioError(f"no audio: the miniaudio library is missing ({exc})") from None
        from engine.ports import quiet_stderr

        backends = backend_list(backend)
        try:
            with quiet_stderr():
                device = miniaudio.PlaybackDevice(
                    output_format=miniaudio.SampleFormat.FLOAT32, nchannels=CHANNELS,
                    sample_rate=self.rate, buffersize_msec=PERIOD_MS,
                    callback_periods=self.periods,
                    backends=backends, app_name="AutoBeat",
                )
        except miniaudio.MiniaudioError as exc:
            tried = backend or "any"
            raise AudioError(f"no audio device ({tried} backend: {exc.args[0]})") from None
        if device.backend.lower() == "null" and (backend or "").lower() != "null":
            device.close()
            raise AudioError("no audio device (only the null backend answered)")
        self.backend = device.backend
        generator = self._generator()
        next(generator)
        try:
            device.start(generator)
        except miniaudio.MiniaudioError as exc:
            device.close()
            raise AudioError(f"the audio device did not start: {exc.args[0]}") from None
        self._device = device

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except Exception:  # noqa: BLE001 - closing a failed device: nothing to tell
                pass

    @property
    def name(self) -> str:
        return AUDIO

    # --- the callback (miniaudio's thread) --------------------------------------------------

    def _generator(self):
        frames = yield b""
        while True:
            try:
                block = self.fill(frames, self.clock())
            except Exception as exc:  # noqa: BLE001 - never kill the stream: silence, count
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                block = np.zeros(frames * CHANNELS, dtype=np.float32)
            frames = yield block.tobytes()

    def fill(self, frames: int, now: float) -> np.ndarray:
        """The next `frames` frames (interleaved float32), asked for at time `now`."""
        started = self.clock()
        latency = self.latency_s
        if self.origin is None:
            self.origin = now + latency
            if self.realtime:
                self.thread_priority = _raise_thread_priority()
        self._track_device(now, latency)
        origin, rate, start = self.origin, self.rate, self.frames
        with self.lock:
            advance(self.player, self._shadow_clock, origin + (start + frames) / rate)
            for t, track, velocity in self.collector.take():
                sample = round((t - origin) * rate)
                self.mixer.add(sample, track, velocity)
                if self.record:
                    self.recorded_hits.append((t, sample, track))
            mono = self.mixer.render(frames)
        self.frames += frames
        self.callbacks += 1
        if self.record and self.frames <= MAX_RECORD_S * rate:
            self._blocks.append(mono)
        if len(self.callback_s) < 100_000:
            self.callback_s.append(self.clock() - started)
        return np.repeat(mono, CHANNELS)

    def _track_device(self, now: float, latency: float) -> None:
        """Dropouts, and the device's clock against ours.

        err: when the device pulled against when the mapping says it would. The
        earliest pulls of the first window (the device holding a full buffer) are the
        reference; a pull later than the reference by more than the buffer means the
        device ran dry (one dropout per run of such pulls). Every window the mapping
        follows the device's drift a little; a shift larger than the buffer that stays
        a whole window (the device restarted after running dry) is taken at once.
        """
        err = now - (self.origin - latency + self.frames / self.rate)
        self._window_min = min(self._window_min, err)
        if self._reference is None:
            self._min_err = err if self._min_err is None else min(self._min_err, err)
            base = self._min_err
        else:
            base = self._reference
        lag = err - base
        if lag > latency:
            if not self._dry:
                self.dropouts += 1
                self.dropout_events.append([now - (self.origin - latency), lag])
            self._dry = True
            self.dropout_events[-1][1] = max(self.dropout_events[-1][1], lag)
        else:
            self._dry = False
        self._window_count += 1
        if self._window_count == DRIFT_WINDOW:
            if self._reference is None:
                self._reference = self._window_min
            else:
                shift = self._window_min - self._reference
                self.origin += shift if abs(shift) > latency else DRIFT_GAIN * shift
            self._window_min, self._window_count = float("inf"), 0
        if len(self.lag_s) < 100_000:
            self.lag_s.append(lag)

    # --- commands (the engine's thread) -------------------------------------------------------

    def mirror(self, cmd, now: float) -> None:
        """Apply an engine command to the shadow player (as the engine's player got it)."""
        p = self.player
        with self.lock:
            self._shadow_clock.t = now
            if isinstance(cmd, m.SetPattern):
                p.set_pattern(cmd.pattern, cmd.at)
            elif isinstance(cmd, m.SwapGroup):
                p.swap_group(cmd.group, cmd.events, cmd.at)
            elif isinstance(cmd, m.Transport):
                if p.mode != "link":  # under Link the session's bar starts it: apply()
                    p.transport(cmd.action, now)
            elif isinstance(cmd, m.SetTempo):
                p.set_tempo(cmd.bpm, now)
            elif isinstance(cmd, m.SetSwing):
                p.set_swing(cmd.percent)
            elif isinstance(cmd, m.SetMute):
                p.set_mute(cmd.track, cmd.muted)
            elif isinstance(cmd, m.SetSolo):
                p.set_solo(cmd.track, cmd.soloed)
            elif isinstance(cmd, m.SetClock):
                p.set_mode(cmd.mode, now)
            elif isinstance(cmd, m.SetOutput):
                p.latency = cmd.latency_ms / 1000.0
            elif isinstance(cmd, m.PlayOnce):  # fills sound as they play over MIDI
                p.play_once(cmd.pattern, cmd.bar, cmd.fill, cmd.crash, cmd.at_bar)
            elif isinstance(cmd, m.CancelOnce):
                p.cancel_once()
            elif isinstance(cmd, m.SetTrigSeed):  # conditional trigs: the same draws
                p.trigs.seed = cmd.seed

    def apply(self, now: float, action: Callable[[Player], None]) -> None:
        """Do to the shadow player what was done to the engine's outside a command (Link
        driving the timeline: engine/process.py), at the engine's time `now`."""
        with self.lock:
            self._shadow_clock.t = now
            action(self.player)

    def follow(self, player: Player, now: float) -> None:
        """Take over the state of the engine's player (opening while it plays): the same
        pattern, timeline and flags; hits from `lead_s` on."""
        p = self.player
        with self.lock:
            self._shadow_clock.t = now
            p.mode, p.swing, p.bpm, p.spt = player.mode, player.swing, player.bpm, player.spt
            p._install(player.pattern)
            p.pending, p.pending_tick = player.pending, player.pending_tick
            p.mutes, p.solos = set(player.mutes), set(player.solos)
            p.anchor_time, p.anchor_tick = player.anchor_time, player.anchor_tick
            p.latency = player.latency
            p.link_origin, p._link_anchor = player.link_origin, player._link_anchor
            p.playing = player.playing and player.mode in ("internal", "link")
            if p.playing:
                p.position = max(player.position, math.ceil(player.tick_at(now + self.lead_s)))
            else:
                p.position = player.position

    def clock_message(self, message: list[int], t: float) -> None:
        """Following: the incoming clock, as the engine's player gets it."""
        with self.lock:
            self._shadow_clock.t = t
            self.player.clock_message(message, t)

    # --- measurements -------------------------------------------------------------------------

    def stats(self) -> AudioStats:
        """The measurements so far (counted up to this call: the onset detection that
        follows takes the engine's time and is not itself measured)."""
        from engine.render import detect_onsets

        with self.lock:
            counts = AudioStats(
                backend=self.backend, rate=self.rate, period_frames=self.period,
                periods=self.periods, latency_s=self.latency_s, callbacks=self.callbacks,
                dropouts=self.dropouts, late_hits=self.mixer.late,
                late_by_s=tuple(s / self.rate for s in self.mixer.late_by),
                callback_s=tuple(self.callback_s), lag_s=tuple(self.lag_s),
                hits=tuple(self.recorded_hits), onsets=(), origin=self.origin or 0.0,
                priority=self.thread_priority or "normal",
                dropout_events=tuple((round(a, 3), round(b, 4)) for a, b in self.dropout_events),
            )
            blocks = list(self._blocks)
        onsets = detect_onsets(np.concatenate(blocks), self.rate) if blocks else ()
        return dataclasses.replace(counts, onsets=tuple(int(i) for i in onsets))


def _raise_thread_priority() -> str:
    """The calling thread (the device's) to SCHED_FIFO below the engine's loop, where
    allowed: a busy machine then cannot keep it from filling the buffer in time."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(AUDIO_PRIORITY))
        return f"SCHED_FIFO {AUDIO_PRIORITY}"
    except (AttributeError, OSError, PermissionError):
        return "normal"


def open_audio(kit_dir: str | None, latency_ms: float, backend: str | None = None,
               record: bool = False, realtime: bool = False) -> tuple[AudioOutput, list[str]]:
    """An AudioOutput with the kit of `kit_dir` (None: built-in), and the kit's problems.

    The AUTOBEAT_AUDIO_BACKEND environment variable picks a backend when none is given
    (``null`` runs the callback with no sound card, for tests); AUTOBEAT_AUDIO_PERIODS
    a longer buffer (periods of PERIOD_MS, default PERIODS).
    """
    from engine.drumkit import load_sounds

    backend = backend or os.environ.get("AUTOBEAT_AUDIO_BACKEND") or None
    try:
        periods = int(os.environ.get("AUTOBEAT_AUDIO_PERIODS") or PERIODS)
    except ValueError:
        periods = -1
    sounds, problems = load_sounds(kit_dir, DEFAULT_RATE)
    return AudioOutput(sounds, latency_ms, backend, record=record, realtime=realtime,
                       periods=periods), problems


def split_out(name: str | None) -> tuple[bool, str | None]:
    """(audio wanted, MIDI output name) of an output choice: ``audio``, ``audio+TR-8S``,
    ``TR-8S``, ``none`` or None (the default MIDI output, no audio)."""
    if name is None:
        return False, None
    parts = [p.strip() for p in name.split("+")]
    audio = any(p.lower() == AUDIO for p in parts)
    midi = "+".join(p for p in parts if p and p.lower() != AUDIO) or None
    return audio, midi
