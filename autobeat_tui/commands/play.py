"""`autobeat play FILE`: play a pattern headless, for scripts and tests.

FILE is a .mid file (its first 2 bars, through the codec), a bank file (with
--slot, else its first pattern) or a token text file (one group sequence a line).
Without FILE, --slot plays from the default bank. --phrase N plays a fill the model
writes in the last bar of every N bars (a slot's own phrase and vary are used
unless given); conditional trigs play as the slot has them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from autobeat_tui.commands._numbers import BPM
from autobeat_tui.commands._numbers import number as finite
from autobeat_tui.commands._options import API_CHOICES, load_kit
from patterns.pattern import MAX_SWING, MAX_TEMPO, MIN_SWING, MIN_TEMPO

NAME = "play"
HELP = "play a pattern (.mid, bank slot or token text) to a MIDI output, headless"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?",
                        help="a .mid file, a bank file or a token text file (default with "
                             "--slot: the default bank)")
    parser.add_argument("--slot", metavar="A01", help="the slot to play from a bank file")
    parser.add_argument("--out", metavar="NAME",
                        help="MIDI output: the first whose name contains NAME (default: a virtual "
                             "'AutoBeat out'; 'none' for no output); 'audio' for the sound card "
                             "(the built-in kit), 'audio+NAME' for both")
    parser.add_argument("--bpm", type=BPM, metavar="BPM",
                        help=f"tempo, {MIN_TEMPO:g}..{MAX_TEMPO:g} (default: the pattern's)")
    parser.add_argument("--swing", type=finite(MIN_SWING, MAX_SWING), metavar="PERCENT",
                        help=f"swing, {MIN_SWING:g}..{MAX_SWING:g}")
    parser.add_argument("--clock", choices=("internal", "external", "link"), default="internal",
                        help="internal: our own tempo; external: follow MIDI clock from "
                             "--clock-in; link: join the Ableton Link session (tempo, bar, "
                             "start/stop)")
    parser.add_argument("--clock-in", metavar="NAME",
                        help="MIDI input to follow (default: a virtual 'AutoBeat clock in')")
    parser.add_argument("--send-clock", action="store_true",
                        help="send MIDI clock, Start/Stop/Continue and Song Position (internal)")
    parser.add_argument("--seconds", type=finite(0, 1e6, above=True), metavar="N",
                        help="stop after N seconds (default: until Ctrl-C)")
    parser.add_argument("--latency", "--latency-ms", dest="latency_ms",
                        type=finite(-100, 100), metavar="MS",
                        help="send MS (-100..100) earlier to make up for the output's own "
                             "delay, later if negative (default: the offset the app's "
                             ":latency keeps for the output)")
    parser.add_argument("--kit", metavar="FILE", help="a kit map (TOML); default General MIDI")
    parser.add_argument("--kit-dir", metavar="DIR",
                        help="WAV files replacing the built-in kit's sounds (kick.wav ...)")
    parser.add_argument("--api", choices=API_CHOICES,
                        help="the MIDI system (default: the first that runs)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    parser.add_argument("--phrase", type=int, choices=(0, 4, 8, 16), default=None,
                        help="a fill in the last bar of every 4, 8 or 16 bars (0: none; "
                             "default: the slot's)")
    parser.add_argument("--vary", type=float, default=None, metavar="AMOUNT",
                        help="vary the hats between fills by 0.05..1 (0: off; default: the slot's)")
    parser.add_argument("--no-crash", action="store_true", help="no crash on the 1 after a fill")
    parser.add_argument("--model", metavar="FILE.gguf",
                        help="the model that writes fills (default: the shipped one)")
    parser.add_argument("--trig-seed", type=int, default=0, metavar="N",
                        help="the seed conditional trigs play out from (default 0)")


def load_pattern(path: str | Path, slot: str | None = None):
    """The pattern a FILE argument names (see the module docstring)."""
    from autobeat_tui.errors import UserError
    from codec.errors import CodecError
    from patterns.files import FileError, read_user_file
    from patterns.pattern import Pattern, PatternError

    path = Path(path)
    if slot is not None:
        from patterns.bank_model import BankError, check_slot

        try:
            slot = check_slot(slot)
        except BankError as exc:
            raise UserError(f"--slot: {exc}") from None
    try:
        data = read_user_file(path, "pattern file")
    except FileError as exc:
        raise UserError(str(exc)) from None
    head = data[:4096]
    if head[:4] == b"MThd" or path.suffix.lower() in (".mid", ".midi"):
        if slot is not None:
            raise UserError("--slot is for bank files, not MIDI files")
        from codec.midi import midi_to_pattern

        try:
            return midi_to_pattern(path)
        except CodecError as exc:
            raise UserError(str(exc)) from None
    if head.lstrip()[:1] == b"{":
        try:
            from patterns.bank import BankError, load_bank
        except ImportError:
            raise UserError(f"{path}: bank files are not supported yet") from None
        try:
            bank = load_bank(path).bank
        except BankError as exc:
            raise UserError(str(exc)) from None
        if slot is not None:
            try:
                pattern = bank.get(slot)
            except BankError as exc:
                raise UserError(str(exc)) from None
            if pattern is None:
                raise UserError(f"{path}: slot {slot} is empty")
            return pattern
        if not bank.slots:
            raise UserError(f"{path}: the bank has no patterns")
        return next(iter(bank.slots.values()))
    if slot is not None:
        raise UserError("--slot is for bank files, not token text")
    from codec.tokens import decode

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a MIDI file, a bank or UTF-8 token text "
                        f"(byte {exc.start})") from None
    pattern = Pattern()
    seen = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            decoded = decode(line, strict=True)
        except CodecError as exc:
            raise UserError(f"{path}:{number}: {exc}") from None
        if decoded.group in seen:
            raise UserError(f"{path}:{number}: group {decoded.group} given twice")
        seen.add(decoded.group)
        try:
            pattern = decoded.apply(pattern)
        except PatternError as exc:
            raise UserError(f"{path}:{number}: {exc}") from None
    if not seen:
        raise UserError(f"{path}: no token lines (expected one group sequence a line)")
    return pattern


def _drummer_options(args: argparse.Namespace, pattern):
    """The pattern with --phrase and --vary applied (a one-line UserError if out of range)."""
    from dataclasses import replace

    from autobeat_tui.errors import UserError

    if args.vary is not None and not (args.vary == 0 or 0.05 <= args.vary <= 1):
        raise UserError(f"--vary must be 0 (off) or in 0.05..1, got {args.vary:g}")
    if args.phrase is not None:
        pattern = replace(pattern, phrase=args.phrase)
    if args.vary is not None:
        pattern = replace(pattern, vary=args.vary)
    return pattern


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from engine import messages as m
    from engine.audio import split_out
    from engine.client import Engine
    from engine.drumkit import kit_problems
    from engine.ports import NONE, PortError, find_port, list_inputs, list_outputs

    if args.file is None:
        if not args.slot:
            raise UserError("give a FILE to play, or --slot A01 to play from the default bank")
        from patterns.bank import default_bank_path

        args.file = str(default_bank_path())
    pattern = _drummer_options(args, load_pattern(args.file, args.slot))
    model = None
    if pattern.phrase or pattern.vary:
        from autobeat_tui.commands._options import load_model

        model = load_model(args.model)
    bpm = args.bpm if args.bpm is not None else pattern.tempo
    if not MIN_TEMPO <= bpm <= MAX_TEMPO:
        raise UserError(f"--bpm must be in {MIN_TEMPO:g}..{MAX_TEMPO:g}, got {bpm:g}")
    if args.swing is not None and not MIN_SWING <= args.swing <= MAX_SWING:
        raise UserError(f"--swing must be in {MIN_SWING:g}..{MAX_SWING:g}, got {args.swing:g}")
    if args.seconds is not None and args.seconds <= 0:
        raise UserError(f"--seconds must be above 0, got {args.seconds:g}")
    kit = load_kit(args.kit)
    latency = _latency(args.latency_ms, args.out)
    audio, midi_out = split_out(args.out)
    for line in kit_problems(args.kit_dir) if audio else ():
        print(f"autobeat play: {line}", file=sys.stderr)
    try:  # an unknown port is an error listing the ports, before anything starts
        if midi_out and midi_out != NONE:
            find_port(list_outputs(args.api), midi_out, "output")
        if args.clock == "external" and args.clock_in:
            find_port(list_inputs(args.api), args.clock_in, "input")
    except PortError as exc:
        raise UserError(str(exc)) from None
    external = args.clock == "external"
    link = args.clock == "link"
    if link:
        _check_link()
    engine = Engine(out=args.out, clock_in=args.clock_in, send_clock=args.send_clock,
                    latency_ms=latency, api=args.api, external=external, link=link, kit=kit,
                    kit_dir=args.kit_dir)
    engine.start()
    state = None
    errors: list[str] = []
    started = time.monotonic()
    phrases = None
    try:
        if args.swing is not None:
            pattern = pattern.with_swing(args.swing)
        engine.send(m.SetPattern(pattern, at="now"))
        engine.send(m.SetTempo(bpm))
        engine.send(m.SetTrigSeed(args.trig_seed))
        if not external:
            engine.send(m.Transport("start"))
        first = engine.wait_for(m.EngineState, timeout=10.0)
        if first is None:
            raise UserError("the engine did not start")
        state = first
        started = time.monotonic()  # the engine is up: --seconds counts from here
        where = ("following MIDI clock" if external else "joining the Link session" if link
                 else f"at {bpm:g} BPM")
        slot_text = f" {args.slot}" if args.slot is not None else ""
        print(f"autobeat play: {Path(args.file).name}{slot_text} "
              f"{where} to {first.output}", file=sys.stderr)
        if audio and not first.output.startswith("audio"):
            print("autobeat play: no audio device answers: no sound card output",
                  file=sys.stderr)
        if first.output == NONE and (args.out or "").lower() != NONE:  # not asked for
            print("autobeat play: no MIDI output (no MIDI system answers): playing silently",
                  file=sys.stderr)
        last_line = ""
        if model is not None:
            phrases = _play_phrases(args, engine, model, pattern, started)
            state = phrases.state or state
            errors += phrases.errors
        while model is None and engine.alive:
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
            time.sleep(0.05)
            for report in engine.poll():
                if isinstance(report, m.EngineState):
                    state = report
                elif isinstance(report, (m.PortError, m.CommandError, m.AudioProblem)):
                    errors.append(report.message)
                    print(f"autobeat play: {report.message}", file=sys.stderr)
                elif isinstance(report, m.ClockProblem) and report.message:
                    errors.append(report.message)  # printed with the state, below
            if state is not None and (external or link):
                line = _link_line(state) if link else _follow_line(state)
                if line != last_line:
                    print(f"autobeat play: {line}", file=sys.stderr)
                    last_line = line
        if not engine.alive and (args.seconds is None or time.monotonic() - started < args.seconds):
            raise UserError("the engine process stopped")
        for report in engine.poll():
            if isinstance(report, m.EngineState):
                state = report
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()
        if model is not None:
            model.close()
    summary = {
        "file": str(args.file),
        "seconds": round(time.monotonic() - started, 2),
        "bars": state.bar if state else 0,
        "tempo": state.tempo if state else bpm,
        "output": state.output if state else NONE,
        "late_events": state.late_events if state else 0,
        "errors": errors,
    }
    if phrases is not None:
        summary.update({"phrase": pattern.phrase, "vary": pattern.vary, **{
            k: v for k, v in phrases.summary().items() if k != "errors"}})
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"autobeat play: stopped after {summary['seconds']} s, bar {summary['bars']}, "
              f"{summary['late_events']} late events", file=sys.stderr)
    return 0


def _latency(ms: float | None, out: str | None) -> float:
    """--latency, range-checked; else the offset kept for the --out output (0 if none)."""
    from autobeat_tui.errors import UserError
    from autobeat_tui.settings import Settings, SettingsError, check_latency

    if ms is not None:
        try:
            return check_latency(ms)
        except ValueError as exc:
            raise UserError(f"--latency: {exc}") from None
    if not out:
        return 0.0
    try:
        return Settings.load().latency_for(out)
    except SettingsError as exc:
        raise UserError(str(exc)) from None


def _check_link() -> None:
    from autobeat_tui.errors import UserError

    try:
        import aalink  # noqa: F401
    except ImportError as exc:
        raise UserError("--clock link needs the link extra: pip install 'autobeat-tui[link]' "
                        f"(aalink, GPL-3) ({exc})") from None


def _link_line(state) -> str:
    info = state.clock_info
    peers = info.peers or 0
    said = f"link, {peers} peer{'s' if peers != 1 else ''}, {state.tempo:.1f} BPM"
    if state.clock_problem:
        return f"{said}: {state.clock_problem}"
    return said + (", playing" if state.playing else ", stopped")


def _play_phrases(args, engine, model, pattern, started):
    from autobeat_tui.live.drummer import Drummer
    from autobeat_tui.live.phrase_loop import play_phrases

    drummer = Drummer(crash=not args.no_crash)

    def done(state, seconds) -> bool:
        return args.seconds is not None and time.monotonic() - started >= args.seconds

    return play_phrases(engine, model, pattern, drummer, done,
                        lambda line: print(f"autobeat play: {line}", file=sys.stderr))


def _follow_line(state) -> str:
    if state.clock_problem:
        return state.clock_problem
    if state.clock_lost:
        return "no clock"
    if not state.playing:
        if state.locked:
            return f"waiting for Start (tempo {state.tempo:.1f})"
        return "waiting for clock"
    return f"following at {state.tempo:.1f} BPM" + ("" if state.locked else " (locking)")
