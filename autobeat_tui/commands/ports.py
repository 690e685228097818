"""`autobeat ports`: list MIDI outputs and inputs."""

from __future__ import annotations

import argparse
import json

NAME = "ports"
HELP = "list MIDI outputs and inputs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from autobeat_tui.commands._options import API_CHOICES

    parser.add_argument("--api", choices=API_CHOICES,
                        help="alsa, jack, coremidi or winmm (default: the first that runs)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.errors import UserError
    from engine.ports import PortError, list_inputs, list_outputs, midi_system

    try:
        system = midi_system(args.api)
        outputs = list_outputs(args.api) if system else []
        inputs = list_inputs(args.api) if system else []
    except PortError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps({"system": system, "outputs": outputs, "inputs": inputs}, indent=2))
        return 0
    if system is None:
        print("No MIDI system answers (no ALSA sequencer, no JACK server): output is 'none'.")
        return 0
    print(f"MIDI system: {system}")
    print("Outputs:" if outputs else "Outputs: none (autobeat opens a virtual 'AutoBeat out')")
    for name in outputs:
        print(f"  {name}")
    print("Inputs:" if inputs else "Inputs: none")
    for name in inputs:
        print(f"  {name}")
    return 0
