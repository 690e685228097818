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

from autobeat_tui.commands._options import load_kit

NAME = "play"
HELP = "play a pattern (.mid, bank slot or token text) to a MIDI output, headless"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?",
                        help="a .mid file, a bank file or a token text file (default with "
                             "--slot: the default bank)")
    parser.add_argument("--slot", metavar="A01", help="the slot to play from a bank file")
    parser.add_argument("--out", metavar="NAME",
                        help="MIDI output: the first whose name contains NAME (default: a virtual "
                             "'AutoBeat out'; 'none' for no output)")
    parser.add_argument("--bpm", type=float, metavar="BPM",
                        help="tempo, 20..300 (default: the pattern's)")
    parser.add_argument("--swing", type=float, metavar="PERCENT", help="swing, 50..75")
    parser.add_argument("--clock", choices=("internal", "external"), default="internal",
                        help="internal: our own tempo; external: follow MIDI clock from --clock-in")
    parser.add_argument("--clock-in", metavar="NAME",
                        help="MIDI input to follow (default: a virtual 'AutoBeat clock in')")
    parser.add_argument("--send-clock", action="store_true",
                        help="send MIDI clock, Start/Stop/Continue and Song Position (internal)")
    parser.add_argument("--seconds", type=float, metavar="N",
                        help="stop after N seconds (default: until Ctrl-C)")
    parser.add_argument("--latency-ms", type=float, default=0.0, metavar="MS",
                        help="send this much earlier to make up for the output's latency")
    parser.add_argument("--kit", metavar="FILE", help="a kit map (TOML); default General MIDI")
    parser.add_argument("--api", metavar="API", help="alsa, jack, coremidi or winmm")
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
    from patterns.pattern import Pattern, PatternError

    path = Path(path)
    try:
        head = path.read_bytes()[:4096]
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head[:4] == b"MThd" or path.suffix.lower() in (".mid", ".midi"):
        if slot:
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
        if slot:
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
    if slot:
        raise UserError("--slot is for bank files, not token text")
    from codec.tokens import decode

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read as text: {exc}") from None
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
    from engine.client import Engine
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
    if not 20 <= bpm <= 300:
        raise UserError(f"--bpm must be in 20..300, got {bpm:g}")
    if args.swing is not None and not 50 <= args.swing <= 75:
        raise UserError(f"--swing must be in 50..75, got {args.swing:g}")
    if args.seconds is not None and args.seconds <= 0:
        raise UserError(f"--seconds must be above 0, got {args.seconds:g}")
    kit = load_kit(args.kit)
    try:  # an unknown port is an error listing the ports, before anything starts
        if args.out and args.out != NONE:
            find_port(list_outputs(args.api), args.out, "output")
        if args.clock == "external" and args.clock_in:
            find_port(list_inputs(args.api), args.clock_in, "input")
    except PortError as exc:
        raise UserError(str(exc)) from None
    external = args.clock == "external"
    engine = Engine(out=args.out, clock_in=args.clock_in, send_clock=args.send_clock,
                    latency_ms=args.latency_ms, api=args.api, external=external, kit=kit)
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
        where = "following MIDI clock" if external else f"at {bpm:g} BPM"
        print(f"autobeat play: {Path(args.file).name}{' ' + args.slot if args.slot else ''} "
              f"{where} to {first.output}", file=sys.stderr)
        if first.output == NONE:
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
                elif isinstance(report, (m.PortError, m.CommandError)):
                    errors.append(report.message)
                    print(f"autobeat play: {report.message}", file=sys.stderr)
            if state is not None and external:
                line = _follow_line(state)
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


def _play_phrases(args, engine, model, pattern, started):
    from autobeat_tui.live.drummer import Drummer
    from autobeat_tui.live.phrase_loop import play_phrases

    drummer = Drummer(crash=not args.no_crash)

    def done(state, seconds) -> bool:
        return args.seconds is not None and time.monotonic() - started >= args.seconds

    return play_phrases(engine, model, pattern, drummer, done,
                        lambda line: print(f"autobeat play: {line}", file=sys.stderr))


def _follow_line(state) -> str:
    if state.clock_lost:
        return "clock lost: holding"
    if not state.playing:
        if state.locked:
            return f"waiting for Start (tempo {state.tempo:.1f})"
        return "waiting for clock"
    return f"following at {state.tempo:.1f} BPM" + ("" if state.locked else " (locking)")
