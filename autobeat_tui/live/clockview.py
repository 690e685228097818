"""`:clock` with no mode: one line that tells at a glance why a sync is off."""

from __future__ import annotations

from engine.messages import ClockInfo, EngineState


def _held(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def describe_clock(state: EngineState, mode: str) -> str:
    """Source, measured tempo, tick jitter, lock and how long it held, peers, drift."""
    info: ClockInfo = state.clock_info
    if info.source == "internal":
        role = "master, sending MIDI clock" if mode == "master" or info.sending else "internal"
        return f"clock: {role} · {info.tempo:.2f} BPM"
    if info.source == "link":
        peers = info.peers or 0
        source = f"Link, {peers} peer{'s' if peers != 1 else ''}"
        if info.sending:
            source += ", sending MIDI clock"
    else:
        source = f"MIDI {info.port}" if info.port else "MIDI clock in"
    parts = [f"clock: {source}", f"{info.tempo:.2f} BPM"]
    if info.jitter_ms is not None:
        parts.append(f"jitter {info.jitter_ms:.2f} ms")
    if state.clock_problem:
        parts.append(state.clock_problem)
    elif info.locked:
        parts.append(f"locked {_held(info.locked_for_s)}")
    else:
        parts.append("lost" if state.clock_lost else "locking")
    if info.offset_ms is not None:
        parts.append(f"offset {info.offset_ms:+.2f} ms")
    if info.drift_ms is not None:
        parts.append(f"drift {info.drift_ms:+.2f} ms over {_held(info.drift_span_s)}")
    return " · ".join(parts)
