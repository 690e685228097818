"""`autobeat bench timing`: the engine's timing targets, measured (issue 4).

1. Internal clock at 174 BPM for --seconds while two other processes load the two
   cores: one stands in for the app (a Python loop redrawing a 12 x 32 grid as
   text), one runs the beat model generating beats back to back (llama.cpp through
   models.runner when a model is there, else a NumPy stand-in that keeps both
   cores busy). Lateness: send time minus due time of every note-on, measured in
   the engine process; drift: the last note-on's send time against
   t0 + its position x the exact tick length, computed here from scratch.
   Clock master: standard deviation of the intervals between sent clock ticks.
2. Following jack_midi_clock (the master) at 133 BPM, plain and with -J 10, and a
   tempo step 120 -> 140: tempo error after 1 and 4 beats (the engine's estimate
   after the 24th and 96th tick), onset error of every note-on against the
   master's ideal grid (frame times of the master's own ticks, both read by
   jack_midi_dump: the tick that carries each 16th), skipping the first beat
   (lock-in, reported as lock_beats), and the beats it took to follow the step.
   Then plain at 133 BPM again on a JACK server of its own at 256, 1024 and 2048
   frames a period (the sizes real interfaces and PipeWire run at): tempo error
   after 4 beats <= 0.1 BPM, onset error p99 <= 2 ms plus one period (the engine's
   notes go out in the JACK cycle after the one they are due in).

With --runs N the internal-clock run is repeated and each headline figure is the
worst of the N. Each run also says where any lateness came from (`causes`): the
time the OS kept the engine from running (a timed sleep it ended late, a CPU a
higher-priority thread or the hypervisor took: `steal_ms`), against the engine's
own work (its Python and its sends), so a late note on a shared VM can be told
from a slow engine.

Everything runs on its own JACK dummy server, started and stopped here.
"""

from __future__ import annotations

import argparse
import bisect
import faulthandler
import json
import multiprocessing
import os
import signal
import statistics
import sys
import time

from engine import messages as m
from patterns.grid import TICKS_PER_BEAT
from patterns.pattern import MAX_TEMPO, MIN_TEMPO, Event, Pattern

FOLLOW_BPM = 133.0
FOLLOW_PERIODS = (256, 1024, 2048)  # JACK buffer sizes users run at (frames a period)
OS_NOISE_S = 0.0001  # an OS share of a tick's lateness below this is measurement noise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the internal-clock run (default 60; 600 for drift)")
    parser.add_argument("--bpm", type=float, default=174.0, help="internal-clock tempo")
    parser.add_argument("--follow-seconds", type=float, default=12.0,
                        help="length of each follower run (default 12)")
    parser.add_argument("--runs", type=int, default=1,
                        help="internal-clock runs; each figure reported is the worst of them")
    parser.add_argument("--no-load", action="store_true", help="skip the app and model load")
    parser.add_argument("--skip-follower", action="store_true",
                        help="skip the follower runs (external MIDI clock)")
    parser.add_argument("--skip-link", action="store_true", help="skip the Ableton Link run")
    parser.add_argument("--jack-no-realtime", action="store_true",
                        help="run jackd with --no-realtime (default: realtime, as in a studio; "
                             "falls back to --no-realtime where not permitted)")


def bench_pattern() -> Pattern:
    """A busy beat: 16th hats, kick, snare, ghost notes, offsets and swing."""
    events = [Event(s, 5, 0, 70 + (s % 4 == 0) * 30) for s in range(32)]
    events += [Event(s, 1, 0, 110) for s in (0, 6, 10, 16, 22, 26)]
    events += [Event(s, 3, 3, 100) for s in (4, 12, 20, 28)]
    events += [Event(s, 4, -6, 40) for s in (7, 15, 23, 31)]
    events += [Event(0, 11, 0, 90), Event(14, 12, 10, 80), Event(30, 12, 10, 80)]
    return Pattern(events=tuple(events), swing=54.0)


def follow_pattern() -> Pattern:
    """One hit on every 16th, no offsets: each note has a master tick to land on."""
    return Pattern(events=tuple(Event(s, 5) for s in range(32)))


# --- load ------------------------------------------------------------------------------


def app_load(stop) -> None:
    """Stands in for the app: redraws a 12 x 32 grid as text, as fast as it can."""
    frame = 0
    while not stop.is_set():
        rows = []
        for track in range(12):
            cells = "".join("x" if (track * 7 + step + frame) % 5 else "." for step in range(32))
            rows.append(f"{track + 1:>2} {cells} {frame % 97:>3}")
        screen = "\n".join(rows)
        frame += len(screen) > 0


def model_load(stop, report) -> None:
    """Generates beats back to back with the real model if there is one, else NumPy."""
    try:
        from models.runner import BeatModel
        from patterns.pattern import GroupParams

        model = BeatModel.load()
        report.put("llama.cpp (models.runner)")
        seed = 0
        while not stop.is_set():
            model.generate_all(Pattern(), [GroupParams()] * 4, seed=seed)
            seed += 1
        model.close()
        return
    except Exception as exc:  # no model file yet, or it cannot load: a stand-in
        report.put(f"NumPy matmul stand-in ({type(exc).__name__}: {str(exc)[:80]})")
    import numpy as np

    a = np.random.default_rng(0).standard_normal((384, 384)).astype(np.float32)
    while not stop.is_set():
        a = np.tanh(a @ a * 0.01)


class Load:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.report = ctx.Queue()
        self.procs = [
            ctx.Process(target=app_load, args=(self.stop,), daemon=True),
            ctx.Process(target=model_load, args=(self.stop, self.report), daemon=True),
        ]
        for p in self.procs:
            p.start()
        try:
            self.model = self.report.get(timeout=60)
        except Exception:
            self.model = "unknown"

    def close(self) -> None:
        self.stop.set()
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(2)


# --- measurements ----------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _check_output(engine, port: str) -> None:
    """The engine's first report: it must have opened `port` (else the numbers mean nothing)."""
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        for report in engine.poll():
            if isinstance(report, m.PortError):
                raise RuntimeError(f"engine: {report.message}")
            if isinstance(report, m.EngineState):
                if report.output != port:
                    raise RuntimeError(f"engine opened {report.output!r}, not {port!r}")
                return
        time.sleep(0.01)
    raise RuntimeError("the engine did not start")


def measure_internal(server: str, seconds: float, bpm: float) -> dict:
    from engine.client import Engine
    from engine.jacktools import MidiDump

    dump = MidiDump(server, "bench-internal")
    engine = Engine(out=dump.name, send_clock=True, record=True)
    engine.start()
    steal_before = hypervisor_steal_ms()
    try:
        _check_output(engine, dump.port)
        engine.send(m.SetPattern(bench_pattern(), at="now"))
        engine.send(m.SetTempo(bpm))
        engine.send(m.Transport("start"))
        time.sleep(seconds)
        engine.send(m.RequestTiming())
        timing = engine.wait_for(m.TimingReport, 30.0)
        engine.send(m.Transport("stop"))
        time.sleep(0.2)
    finally:
        engine.stop()
        dump.stop()
    if timing is None or not timing.lateness:
        raise RuntimeError("the engine sent no timing report")
    received = sum(1 for e in dump.snapshot() if e.data[0] & 0xF0 == 0x90 and e.data[2] > 0)
    late_ms = [x * 1000 for x in timing.lateness]
    steal_ms = (hypervisor_steal_ms() - steal_before) if steal_before is not None else None
    return {
        **issue4_figures(timing, bpm),
        # note-ons the engine sent by the time of its report, against those that
        # reached jack_midi_dump (which also got the ones sent after: never fewer)
        "notes_lost": max(0, len(late_ms) - received),
        "engine_scheduling": timing.realtime,
        "causes": _causes(timing, late_ms, steal_ms),
    }


def issue4_figures(timing: m.TimingReport, bpm: float) -> dict:
    """Issue 4's figures from the engine's timing report: lateness of the note-ons,
    drift of the last one against t0 + its tick x the exact tick length (computed
    here from scratch), and the SD of the intervals between the clock ticks sent."""
    late_ms = [x * 1000 for x in timing.lateness]
    spt = 60.0 / (bpm * TICKS_PER_BEAT)
    due_from_scratch = timing.start_time + timing.last_tick * spt
    intervals = [b - a for a, b in zip(timing.clock_sent, timing.clock_sent[1:], strict=False)]
    return {
        "notes": len(late_ms),
        "lateness_ms": {
            "p50": round(_pct(late_ms, 0.50), 4),
            "p99": round(_pct(late_ms, 0.99), 4),
            "max": round(max(late_ms), 4),
        },
        "late_over_1ms": sum(1 for x in late_ms if x > 1.0),
        # (sent early by the output's lead on purpose: it lands on its due time)
        "drift_ms": round((timing.last_sent + timing.output_lead - due_from_scratch) * 1000, 4),
        "clock_ticks": len(timing.clock_sent),
        "clock_tick_sd_ms": round(statistics.pstdev(intervals) * 1000, 4) if intervals else None,
    }


def _causes(timing: m.TimingReport, late_ms: list[float], steal_ms: float | None) -> dict:
    """Where lateness came from: the OS not running the engine, or the engine itself.

    The OS's share of an action's lateness: how long after its due time the engine's
    loop got to it (a timed sleep the OS ended late), plus the time the OS kept the
    engine from running while it spun and sent (wall time minus the thread's CPU
    time: a higher-priority thread, an interrupt, the hypervisor: `steal_ms`). The
    rest is the engine's own: its Python, its sends, the events sent before it.
    """
    os_note = [max(0.0, a) * 1000 + st * 1000
               for a, st in zip(timing.note_arrival, timing.note_stalled, strict=False)]
    own = [max(0.0, late - o) for late, o in zip(late_ms, os_note, strict=False)]
    os_tick = [max(0.0, a) + st for a, st in zip(timing.clock_arrival, timing.clock_stalled,
                                                 strict=False)]
    wakes = sorted(x * 1000 for x in timing.wake_late)
    late = [i for i, x in enumerate(late_ms) if x > 1.0]
    # the tick intervals had the OS run the engine on time: the engine's own jitter
    # (only a real stall is taken off: below OS_NOISE_S the wall-minus-CPU figure is
    # the clocks' own noise, and taking it off would add jitter, not remove it)
    own_sent = [t - (o if o > OS_NOISE_S else 0.0)
                for t, o in zip(timing.clock_sent, os_tick, strict=False)]
    own_intervals = [b - a for a, b in zip(own_sent, own_sent[1:], strict=False)]
    return {
        "os_wake_late_ms": {
            "p99": round(_pct(wakes, 0.99), 4) if wakes else None,
            "max": round(wakes[-1], 4) if wakes else None,
            "over_1ms": sum(1 for x in wakes if x > 1.0),
            "sleeps": len(wakes),
        },
        "steal_ms": round(steal_ms, 1) if steal_ms is not None else None,
        "os_share_ms_max": round(max(os_note), 4) if os_note else None,
        "late_over_1ms_os_share_over_half": sum(1 for i in late if os_note[i] > late_ms[i] / 2),
        "engine_own_ms": {"p99": round(_pct(own, 0.99), 4) if own else None,
                          "max": round(max(own), 4) if own else None},
        "clock_ticks_os_over_0_5ms": sum(1 for x in os_tick if x > 0.0005),
        "clock_tick_sd_ms_engine_own": (round(statistics.pstdev(own_intervals) * 1000, 4)
                                        if own_intervals else None),
    }


def hypervisor_steal_ms() -> float | None:
    """CPU time the hypervisor took from this VM's CPUs so far (ms), where Linux says."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
        return int(fields[8]) * 1000.0 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def measure_follower(server: str, seconds: float, jitter: int = 0, step_to: float | None = None,
                     bpm: float = FOLLOW_BPM, period: int | None = None) -> dict:
    """Follow jack_midi_clock; onset errors from jack_midi_dump's frame times."""
    from engine.client import Engine
    from engine.jacktools import PERIOD, SAMPLE_RATE, ClockMaster, MidiDump, connect

    period = period or PERIOD
    dump = MidiDump(server, f"bench-follow-{jitter}-{int(step_to or 0)}")
    master = ClockMaster(server, bpm, jitter_percent=jitter)
    connect(server, master.port, dump.port)
    engine = Engine(out=dump.name, clock_in="jack_midi_clock", external=True, record=True)
    engine.start()
    try:
        _check_output(engine, dump.port)
        engine.send(m.SetPattern(follow_pattern(), at="now"))
        time.sleep(0.5)
        master.play()
        if step_to is None:
            time.sleep(seconds)
        else:
            time.sleep(seconds / 2)
            master.tempo(step_to)
            time.sleep(seconds / 2)
        engine.send(m.RequestTiming())
        timing = engine.wait_for(m.TimingReport, 30.0)
        master.stop()
        time.sleep(0.3)
        events = dump.snapshot()
    finally:
        engine.stop()
        master.close()
        dump.stop()
    starts = [e.frame for e in events if e.data == (0xFA,)]
    if not starts or timing is None:
        raise RuntimeError("no Start from jack_midi_clock, or no timing report")
    start = starts[0]
    ticks = [e.frame for e in events if e.data == (0xF8,) and e.frame >= start]
    ons = [e.frame for e in events if len(e.data) == 3 and e.data[0] & 0xF0 == 0x90]
    stop_frames = [e.frame for e in events if e.data == (0xFC,)]
    end = stop_frames[0] if stop_frames else ticks[-1]
    ms = 1000.0 / SAMPLE_RATE
    ticks = [f for f in ticks if f <= end]
    step_k = _step_tick(ticks) if step_to is not None else None
    # the master's grid is its ticks as sent, exact to the frame: every 6th is a 16th.
    # (jack_midi_clock -J makes every interval wander, so its ticks random-walk away
    # from any straight line; the line is reported too, for reference.)
    sixteenths = [float(f) for f in ticks[::6]]
    line = _ideal_grid(ticks, step_k)[::6]
    line_errors: list[float] = []
    errors: list[float] = []
    matched = set()
    for frame in ons:
        i = bisect.bisect_left(sixteenths, frame)
        near = min((j for j in (i - 1, i) if 0 <= j < len(sixteenths)),
                   key=lambda j: abs(sixteenths[j] - frame), default=None)
        if near is None:
            continue
        matched.add(near)
        k = 6 * near
        if k < 24:  # the first beat: locking in
            continue
        if step_k is not None and abs(k - step_k) < 24:
            continue  # the beat either side of a tempo step: reported as step_follow_beats
        errors.append((frame - sixteenths[near]) * ms)
        line_errors.append((frame - line[near]) * ms)
    missing = len(sixteenths) - len(matched)
    if os.environ.get("AUTOBEAT_BENCH_DEBUG"):
        with open(os.environ["AUTOBEAT_BENCH_DEBUG"], "w") as fh:
            json.dump({"events": [(e.frame, e.data) for e in events], "errors": errors}, fh)
    trace = list(timing.tempo_trace)
    result = {
        "ticks": len(ticks),
        "notes": len(ons),
        "sixteenths": len(sixteenths),
        "missing_or_doubled": missing + (len(ons) - len(matched)),
        "onset_error_ms": {
            "p50": round(_pct([abs(x) for x in errors], 0.5), 3),
            "p99": round(_pct([abs(x) for x in errors], 0.99), 3),
            "max": round(max((abs(x) for x in errors), default=float("nan")), 3),
            "mean": round(statistics.fmean(errors), 3) if errors else None,
        },
        "onset_error_vs_straight_line_ms_p99": round(_pct([abs(x) for x in line_errors], 0.99), 3),
        "jack_period_ms": round(period * ms, 3),
    }
    if len(trace) > 96:
        result["tempo_error_bpm_after_1_beat"] = round(trace[24] - bpm, 4)
        result["tempo_error_bpm_after_4_beats"] = round(trace[96] - bpm, 4)
        result["lock_beats"] = _beats_to_within(trace[: step_k or len(trace)], 0, bpm)
    if step_to is not None:
        k = step_k
        result["step_tick"] = k
        if k is not None:
            result["step_follow_beats"] = _beats_to_within(trace, k, step_to)
            result["tempo_error_bpm_4_beats_after_step"] = (
                round(trace[k + 96] - step_to, 4) if k + 96 < len(trace) else None
            )
    return result


def _step_tick(ticks: list[int]) -> int | None:
    """The index of the first tick at the new tempo: where each of the next 6
    intervals differs by > 5 % from the median of the 12 before (one odd interval,
    a cycle the JACK server missed, is not a step)."""
    intervals = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    for i in range(12, len(intervals) - 6):
        before = statistics.median(intervals[i - 12 : i])
        if all(abs(x - before) > 0.05 * before for x in intervals[i : i + 6]):
            return i
    return None


def _ideal_grid(ticks: list[int], step: int | None) -> list[float]:
    """The master's ideal tick frames: a straight line through its ticks (the jitter
    option displaces each tick from it), one line each side of a tempo step."""
    if step is None:
        return _line(ticks)
    return _line(ticks[:step]) + _line(ticks[step:])


def _line(frames: list[int]) -> list[float]:
    n = len(frames)
    if n < 2:
        return [float(f) for f in frames]
    k_mean = (n - 1) / 2
    f_mean = sum(frames) / n
    sxx = sum((k - k_mean) ** 2 for k in range(n))
    slope = sum((k - k_mean) * (f - f_mean) for k, f in enumerate(frames)) / sxx
    return [f_mean + (k - k_mean) * slope for k in range(n)]


def _beats_to_within(trace: list[float], first: int, bpm: float, tolerance: float = 0.005):
    """Beats after tick `first` until the estimate stays within tolerance (0.5 %) of bpm."""
    last_bad = None
    for i in range(first, len(trace)):
        if abs(trace[i] - bpm) > tolerance * bpm:
            last_bad = i
    if last_bad is None:
        return 0.0
    if last_bad >= len(trace) - 1:
        return None
    return round((last_bad + 1 - first) / 24.0, 3)


def _attempt(measure) -> dict:
    """One follower run; a failure becomes {"error": ...} so the rest still reports."""
    try:
        return measure()
    except Exception as exc:  # a JACK tool that failed or timed out
        return {"error": f"{type(exc).__name__}: {exc}"}


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)  # through the finally clauses: jackd is stopped


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from engine.jacktools import JackError, JackServer, realtime_server

    if args.seconds <= 0:
        raise UserError(f"--seconds must be above 0, got {args.seconds:g}")
    if args.runs < 1:
        raise UserError(f"--runs must be 1 or more, got {args.runs}")
    if not MIN_TEMPO <= args.bpm <= MAX_TEMPO:
        raise UserError(f"--bpm must be in {MIN_TEMPO:g}..{MAX_TEMPO:g}, got {args.bpm:g}")
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    signal.signal(signal.SIGTERM, _terminated)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where it waits
    try:
        server = JackServer() if args.jack_no_realtime else realtime_server()
    except JackError as exc:
        raise UserError(f"bench timing needs a JACK server: {exc}") from None
    os.environ["JACK_DEFAULT_SERVER"] = server.name  # for the engine processes we spawn
    os.environ["JACK_NO_START_SERVER"] = "1"
    result: dict = {"seconds": args.seconds, "bpm": args.bpm,
                    "jackd": "realtime" if server.realtime else "no-realtime"}
    try:
        load = None if args.no_load else Load()
        try:
            result["load"] = "none" if load is None else f"app stand-in + {load.model}"
            runs = []
            for k in range(args.runs):
                log(f"internal clock ({k + 1}/{args.runs}): {args.bpm:g} BPM for "
                    f"{args.seconds:g} s, load: {result['load']}")
                runs.append(measure_internal(server.name, args.seconds, args.bpm))
            if not args.skip_link:  # issue 4's figures with Link running, under that load
                # 30 s at least: a p99 wants a few hundred notes (16ths at 128 BPM)
                link_s = max(30.0, args.follow_seconds)
                result["link"] = link_in_namespace(link_s, server.name, log)
                result["link_periods"] = _link_periods(server.realtime, link_s, log)
        finally:
            if load is not None:
                load.close()
        result.update(_worst(runs))
        result["internal"] = max(runs, key=lambda r: r["lateness_ms"]["max"])
        result["internal_runs"] = runs
        result["internal_runs_meeting_targets"] = (
            f"{sum(all(_targets(r).values()) for r in runs)}/{len(runs)}")
        if not args.skip_follower:
            s = args.follow_seconds
            log(f"follower: jack_midi_clock at {FOLLOW_BPM:g} BPM, {s:g} s")
            plain = _attempt(lambda: measure_follower(server.name, s))
            log("follower: jack_midi_clock -J 10")
            jitter = _attempt(lambda: measure_follower(server.name, s, jitter=10))
            log("follower: tempo step 120 -> 140 BPM")
            step = _attempt(lambda: measure_follower(server.name, s, step_to=140.0, bpm=120.0))
            result["follower_periods"] = _follow_periods(server.realtime, s, log)
            result["follower"] = {
                "tempo_error_bpm_after_1_beat": plain.get("tempo_error_bpm_after_1_beat"),
                "tempo_error_bpm_after_4_beats": plain.get("tempo_error_bpm_after_4_beats"),
                "onset_error_ms_p99": plain.get("onset_error_ms", {}).get("p99"),
                "onset_error_ms_p99_jitter10": jitter.get("onset_error_ms", {}).get("p99"),
                "lock_beats": plain.get("lock_beats"),
                "tempo_step_follow_beats": step.get("step_follow_beats"),
                "runs": {"plain": plain, "jitter10": jitter, "step_120_140": step},
            }
    finally:
        server.stop()
    result["targets_met"] = _targets(result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(_summary(result))
    return 0


def _follow_periods(realtime: bool, seconds: float, log) -> dict:
    """The follower at 133 BPM on a JACK server of its own at each of FOLLOW_PERIODS."""
    from engine.jacktools import JackError, JackServer

    out = {}
    for period in FOLLOW_PERIODS:
        log(f"follower: jack_midi_clock at {FOLLOW_BPM:g} BPM, JACK period {period} frames")
        try:
            server = JackServer(realtime=realtime, period=period)
        except JackError as exc:
            out[str(period)] = {"error": str(exc)}
            continue
        saved = os.environ["JACK_DEFAULT_SERVER"]
        os.environ["JACK_DEFAULT_SERVER"] = server.name  # the engine process finds it
        try:
            r = _attempt(lambda s=server, p=period: measure_follower(s.name, seconds, period=p))
        finally:
            os.environ["JACK_DEFAULT_SERVER"] = saved
            server.stop()
        out[str(period)] = {
            "tempo_error_bpm_after_4_beats": r.get("tempo_error_bpm_after_4_beats"),
            "onset_error_ms_p99": r.get("onset_error_ms", {}).get("p99"),
            "onset_target_ms": round(2.0 + period * 1000.0 / 48000, 3),
            "run": r,
        }
    return out


# --- Ableton Link ----------------------------------------------------------------------

LINK_PERIODS = (256, 1024)  # besides the 64 of the main run: where JackOutput places notes


def _link_periods(realtime: bool, seconds: float, log) -> dict:
    """The Link run again on a JACK server of its own at each of LINK_PERIODS."""
    from engine.jacktools import JackError, JackServer

    out = {}
    for period in LINK_PERIODS:
        try:
            server = JackServer(realtime=realtime, period=period)
        except JackError as exc:
            out[str(period)] = {"error": str(exc)}
            continue
        try:
            log(f"link at {period} frames a period")
            out[str(period)] = link_in_namespace(seconds, server.name, log)
        finally:
            server.stop()
    return out

LINK_BPM = 128.0
NAMESPACE = "ip link set lo up && ip route add 224.0.0.0/4 dev lo"


def link_in_namespace(seconds: float, server: str, log) -> dict:
    """measure_link in a network namespace of its own with only loopback (never a real
    interface): ``unshare -rn`` (as root ``unshare -n``), lo up, multicast routed to
    lo. The JACK server is the one outside (JACK talks through files, not the
    network): inside a user namespace jackd gets no realtime scheduling, and a dummy
    driver without it lets its frames slip against the wall clock (0.3 % here),
    which would be measured as phase."""
    import shutil
    import subprocess

    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return {"error": f"{tool} is not installed (util-linux, iproute2)"}
    log(f"link: a peer at {LINK_BPM:g} BPM and the engine, in a loopback-only namespace")
    command = f"{NAMESPACE} && exec {sys.executable} -m {__name__} --link-inside {seconds:g}"
    env = {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"}
    try:
        out = subprocess.run([*_unshare(), "sh", "-c", command], capture_output=True,
                             text=True, timeout=120 + 2 * seconds, env=env)
    except subprocess.TimeoutExpired:
        return {"error": "the Link run did not finish"}
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        return {"error": f"the Link run failed: {out.stderr.strip()[-400:]}"}
    return json.loads(lines[-1])


def _unshare() -> list[str]:
    """A new network namespace: as root, only that (the engine keeps its right to
    realtime scheduling); otherwise in a user namespace too (``unshare -rn``)."""
    return ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]


def measure_link(seconds: float) -> dict:
    """Inside the namespace, on the JACK server JACK_DEFAULT_SERVER names: a Link peer
    at 128 BPM (this process) and the
    engine joining it at 120 and playing 16ths to a JACK input here, which times each
    note by its frame. Each note's phase is read on the peer's own timeline."""
    from engine.client import Engine
    from engine.jackmidi import JackInput, JackPorts
    from engine.link import ClockMap, LinkTimeline, make_link

    probe = JackPorts("in", "bench-probe")
    frames, rate = probe.period()
    probe.delete()

    notes: list[float] = []
    now = time.perf_counter
    receiver = JackInput(None, lambda msg, t: notes.append(t) if msg[0] & 0xF0 == 0x90 else None,
                         now, "bench-link", "notes in")
    peer, loop = make_link(LINK_BPM)
    peer.enabled = True
    timeline = LinkTimeline(peer)
    cmap = ClockMap(now, timeline.now)
    samples: list[tuple[float, object]] = []  # (engine time, the peer's Sample)
    states: list[tuple[float, float, int]] = []  # (engine time, engine tempo, peers)
    peer_tempo: list[tuple[float, float]] = []

    def watch(until: float) -> None:
        while now() < until:
            t = now()
            cmap.sample()
            samples.append((t, timeline.sample()))
            peer_tempo.append((t, peer.tempo))
            for r in engine.poll():
                if isinstance(r, m.EngineState):
                    states.append((now(), r.tempo, r.clock_info.peers or 0))
            time.sleep(0.01)

    engine = Engine(out="bench-link", link=True, record=True, send_clock=True)
    try:
        time.sleep(1.0)  # the peer's session is older: it is the session
        engine.start()
        engine.send(m.SetPattern(follow_pattern(), at="now"))
        engine.send(m.SetTempo(120.0))  # ours before joining: the session's must win
        engine.send(m.Transport("start"))
        watch(now() + seconds / 2)
        t_peer_change = now()
        peer.tempo = 140.0  # a tempo change there ...
        watch(now() + seconds / 4)
        t_our_change = now()
        engine.send(m.SetTempo(110.0))  # ... and here
        watch(now() + seconds / 4)
        engine.send(m.RequestTiming())
        timing = engine.wait_for(m.TimingReport, 30.0)
    finally:
        engine.stop()
        receiver.close()
        peer.enabled = False
        loop.close()
    if timing is None:
        raise RuntimeError("no timing report")

    def sample_at(t: float):
        i = bisect.bisect_right([s[0] for s in samples], t) - 1
        return samples[max(0, i)][1]

    joined = next((t for t, _, p in states if p >= 1), None)
    took = next((t for t, bpm, _ in states if abs(bpm - LINK_BPM) < 0.01), None)
    beat_s = 60.0 / LINK_BPM
    errors = []  # (engine time, ms)
    for t in notes:
        sample = sample_at(t)
        beat = LinkTimeline.beat_at(sample, cmap.to_link(t))
        sixteenth = round(beat * 4) / 4
        errors.append((t, (beat - sixteenth) * 60.0 / sample.tempo * 1000.0))

    def settled_after(t0: float, tempo: float) -> float | None:
        """Beats from t0 until a beat of the engine's notes (4 16ths) sits, by its
        median, within 1 ms of the peer's grid (one late note, the OS's, is not a
        tempo not followed)."""
        after = [(t, e) for t, e in errors if t >= t0]
        for i in range(len(after) - 3):
            window = sorted(abs(e) for _, e in after[i : i + 4])
            if (window[1] + window[2]) / 2 <= 1.0:
                return round(max(0.0, after[i][0] - t0) * tempo / 60.0, 3)
        return None

    signed = [e for t, e in errors
              if (took is None or t > took + 4 * beat_s)
              and not t_peer_change <= t < t_peer_change + 4 * beat_s
              and not t_our_change <= t < t_our_change + 4 * beat_s]
    steady = [abs(e) for e in signed]
    if os.environ.get("AUTOBEAT_BENCH_DEBUG"):
        with open(os.environ["AUTOBEAT_BENCH_DEBUG"], "w") as fh:
            json.dump({"errors": errors, "t_peer_change": t_peer_change,
                       "t_our_change": t_our_change, "took": took}, fh)
    peer_took = next((t for t, bpm in peer_tempo if t >= t_our_change and abs(bpm - 110) < 0.01),
                     None)
    end = now()
    settle = 4 * 60.0 / 110.0  # four beats at the slowest tempo after a change
    segments = [((took or t_peer_change) + settle, t_peer_change),
                (t_peer_change + settle, t_our_change), (t_our_change + settle, end)]
    late_ms = [x * 1000 for x in timing.lateness]
    return {
        "jack_period_ms": round(frames * 1000.0 / rate, 3),
        "notes": len(notes),
        "tempo_taken_beats": (None if joined is None or took is None
                              else round(max(0.0, took - joined) / beat_s, 3)),
        "phase_error_ms": {"p50": round(_pct(steady, 0.5), 3), "p99": round(_pct(steady, 0.99), 3),
                           "max": round(max(steady, default=float("nan")), 3),
                           "mean_signed": round(statistics.fmean(signed), 3) if signed else None},
        "peer_tempo_change_followed_beats": settled_after(t_peer_change, 140.0),
        "our_tempo_change_taken_by_peer_beats": (
            None if peer_took is None else round((peer_took - t_our_change) * 140.0 / 60, 3)),
        # issue 4's figures with Link running: the engine's own lateness, the MIDI clock
        # it sends (24 a beat on the session's timeline: the SD of its tick intervals
        # within each stretch of one tempo) and its drift (the phase of its last 16
        # notes against the session's beats)
        "engine_lateness_ms": {
            "p50": round(_pct(late_ms, 0.5), 3), "p99": round(_pct(late_ms, 0.99), 3),
            "max": round(max(late_ms, default=float("nan")), 3)},
        "clock_ticks": len(timing.clock_sent),
        "clock_tick_sd_ms": _segment_sd(list(timing.clock_sent), segments),
        "drift_ms": round(statistics.fmean(e for _, e in errors[-16:]), 3) if errors else None,
    }


def _segment_sd(sent: list[float], segments: list[tuple[float, float]]) -> float | None:
    """The largest SD (ms) of the intervals between clock ticks inside one segment."""
    sds = []
    for start, end in segments:
        inside = [t for t in sent if start <= t < end]
        intervals = [b - a for a, b in zip(inside, inside[1:], strict=False)]
        if len(intervals) > 2:
            sds.append(statistics.pstdev(intervals) * 1000)
    return round(max(sds), 4) if sds else None


def _worst(runs: list[dict]) -> dict:
    """Each headline figure: the worst any run gave."""
    return {
        "lateness_ms": {q: max(r["lateness_ms"][q] for r in runs) for q in ("p50", "p99", "max")},
        "drift_ms": max((r["drift_ms"] for r in runs), key=abs),
        "clock_tick_sd_ms": max(r["clock_tick_sd_ms"] or 0.0 for r in runs),
    }


def _summary(r: dict) -> str:
    late = r["lateness_ms"]
    lines = [
        f"jackd {r['jackd']}; engine {r['internal']['engine_scheduling']}; load: {r['load']}",
        f"internal clock {r['bpm']:g} BPM, {r['seconds']:g} s, {r['internal']['notes']} notes:",
        f"  lateness p50 {late['p50']:.3f} ms, p99 {late['p99']:.3f} ms, max {late['max']:.3f} ms",
        f"  drift of the last note {r['drift_ms']:.3f} ms; notes lost on the way to "
        f"jack_midi_dump: {r['internal'].get('notes_lost')}",
        f"  clock master tick interval sd {r['clock_tick_sd_ms']:.4f} ms",
    ]
    if len(r["internal_runs"]) > 1:
        lines.append(f"  (the worst of {len(r['internal_runs'])} runs; "
                     f"{r['internal_runs_meeting_targets']} met every target)")
    c = r["internal"]["causes"]
    lines.append(
        f"  the OS woke the engine up to {c['os_wake_late_ms']['max']} ms late "
        f"({c['os_wake_late_ms']['over_1ms']} sleeps over 1 ms, hypervisor steal "
        f"{c['steal_ms']} ms); the engine's own share of a note's lateness: p99 "
        f"{c['engine_own_ms']['p99']} ms, max {c['engine_own_ms']['max']} ms; tick sd without "
        f"the OS's delays {c['clock_tick_sd_ms_engine_own']} ms")
    f = r.get("follower")
    if f:
        lines += [
            f"follower (jack_midi_clock at {FOLLOW_BPM:g} BPM):",
            f"  tempo error after 1 beat {f['tempo_error_bpm_after_1_beat']} BPM, "
            f"after 4 beats {f['tempo_error_bpm_after_4_beats']} BPM, "
            f"locked within 0.5 % after {f['lock_beats']} beats",
            f"  onset error p99 {f['onset_error_ms_p99']} ms; with -J 10: "
            f"{f['onset_error_ms_p99_jitter10']} ms",
            f"  tempo step 120 -> 140 BPM followed (within 0.5 %) after "
            f"{f['tempo_step_follow_beats']} beats",
        ]
    for period, p in (r.get("follower_periods") or {}).items():
        if "error" in p:
            lines.append(f"  at {period} frames a period: {p['error']}")
            continue
        lines.append(
            f"  at {period} frames a period: tempo error after 4 beats "
            f"{p['tempo_error_bpm_after_4_beats']} BPM, onset error p99 "
            f"{p['onset_error_ms_p99']} ms (target {p['onset_target_ms']} ms)")
    lk = r.get("link")
    if lk:
        if "error" in lk:
            lines.append(f"link: {lk['error']}")
        else:
            lines += [
                f"link (a peer at {LINK_BPM:g} BPM, loopback-only namespace, JACK period "
                f"{lk['jack_period_ms']} ms):",
                f"  tempo taken after {lk['tempo_taken_beats']} beats; note phase against the "
                f"peer's beats p99 {lk['phase_error_ms']['p99']} ms",
                f"  a tempo change there followed (notes within 1 ms) after "
                f"{lk['peer_tempo_change_followed_beats']} beats; one here taken by the peer "
                f"after {lk['our_tempo_change_taken_by_peer_beats']} beats",
                f"  with Link running: lateness p50 {lk['engine_lateness_ms']['p50']} ms, p99 "
                f"{lk['engine_lateness_ms']['p99']} ms, max {lk['engine_lateness_ms']['max']} "
                f"ms; MIDI clock out tick sd {lk['clock_tick_sd_ms']} ms; drift of the last "
                f"notes {lk['drift_ms']} ms",
            ]
    for period, p in (r.get("link_periods") or {}).items():
        if "error" in p:
            lines.append(f"  link at {period} frames a period: {p['error']}")
            continue
        lines.append(f"  link at {period} frames a period: note phase p99 "
                     f"{p['phase_error_ms']['p99']} ms, max {p['phase_error_ms']['max']} ms, "
                     f"{p['notes']} notes")
    missed = [k for k, ok in r["targets_met"].items() if not ok]
    lines.append("targets: all met" if not missed else "targets missed: " + ", ".join(missed))
    return "\n".join(lines)


def _targets(r: dict) -> dict:
    out = {
        "lateness_p99_le_1ms": r["lateness_ms"]["p99"] <= 1.0,
        "lateness_max_le_3ms": r["lateness_ms"]["max"] <= 3.0,
        "drift_le_1ms": abs(r["drift_ms"]) <= 1.0,
        "clock_tick_sd_le_0_15ms": (r["clock_tick_sd_ms"] or 0) <= 0.15,
    }
    if "internal" in r:
        out["no_note_lost"] = r["internal"].get("notes_lost", 0) == 0
    f = r.get("follower")
    if f:
        e1 = f["tempo_error_bpm_after_1_beat"]
        e4 = f["tempo_error_bpm_after_4_beats"]
        out["tempo_within_0_5pct_after_1_beat"] = e1 is not None and abs(e1) <= 0.005 * FOLLOW_BPM
        out["tempo_within_0_1bpm_after_4_beats"] = e4 is not None and abs(e4) <= 0.1
        o2, o3 = f["onset_error_ms_p99"], f["onset_error_ms_p99_jitter10"]
        out["onset_p99_le_2ms"] = o2 is not None and o2 <= 2.0
        out["onset_p99_jitter10_le_3ms"] = o3 is not None and o3 <= 3.0
        sb = f["tempo_step_follow_beats"]
        out["tempo_step_within_1_beat"] = sb is not None and sb <= 1.0
    lk = r.get("link")
    if lk is not None:
        ok = "error" not in lk
        tb, ph = lk.get("tempo_taken_beats"), lk.get("phase_error_ms", {}).get("p99")
        pc, oc = (lk.get("peer_tempo_change_followed_beats"),
                  lk.get("our_tempo_change_taken_by_peer_beats"))
        out["link_tempo_taken_within_1_beat"] = ok and tb is not None and tb <= 1.0
        out["link_phase_p99_le_1ms"] = ok and ph is not None and ph <= 1.0
        out["link_tempo_change_either_side_within_1_beat"] = (
            ok and pc is not None and oc is not None and pc <= 1.0 and oc <= 1.0)
        late = lk.get("engine_lateness_ms", {})
        out["link_lateness_p99_le_1ms"] = ok and late.get("p99", 99) <= 1.0
        out["link_lateness_max_le_3ms"] = ok and late.get("max", 99) <= 3.0
        sd, drift = lk.get("clock_tick_sd_ms"), lk.get("drift_ms")
        out["link_clock_tick_sd_le_0_15ms"] = ok and sd is not None and sd <= 0.15
        out["link_drift_le_1ms"] = ok and drift is not None and abs(drift) <= 1.0
    for period, p in (r.get("link_periods") or {}).items():
        ph = p.get("phase_error_ms", {}).get("p99")
        out[f"link_p{period}_phase_p99_le_1ms"] = "error" not in p and ph is not None and ph <= 1.0
    for period, p in (r.get("follower_periods") or {}).items():
        e4, o = p.get("tempo_error_bpm_after_4_beats"), p.get("onset_error_ms_p99")
        out[f"p{period}_tempo_within_0_1bpm_after_4_beats"] = e4 is not None and abs(e4) <= 0.1
        out[f"p{period}_onset_p99_le_2ms_plus_period"] = (
            o is not None and o <= p["onset_target_ms"])
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["--link-inside"]:
    # run by link_in_namespace, inside the loopback-only namespace
    print(json.dumps(measure_link(float(sys.argv[2]))))
