"""Link scenarios, run by tests/engine/test_link.py inside a network namespace that has
only loopback (never on a real interface): ``python link_scenarios.py NAME`` prints
one JSON object of what it saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from engine import messages as m  # noqa: E402
from engine.client import Engine  # noqa: E402
from patterns.pattern import Event, Pattern  # noqa: E402


def _states(engine, seconds: float, seen: list) -> m.EngineState | None:
    end = time.monotonic() + seconds
    state = None
    while time.monotonic() < end:
        for r in engine.poll():
            if isinstance(r, m.EngineState):
                state = r
            else:
                seen.append(r)
        time.sleep(0.02)
    return state


async def join_follow_and_lead() -> dict:
    """A peer at 128 BPM, playing; the engine joins at 120 and plays."""
    from aalink import Link

    peer = Link(128.0)
    peer.quantum = 4
    peer.start_stop_sync_enabled = True
    peer.enabled = True
    peer.playing = True
    await asyncio.sleep(1.0)
    out: dict = {}
    seen: list = []
    engine = Engine(out="none", link=True, realtime=False)
    engine.start()
    try:
        engine.send(m.SetPattern(Pattern(events=(Event(0, 1),)), at="now"))
        engine.send(m.SetTempo(120.0))
        state = _states(engine, 2.5, seen)
        out["joined"] = {"tempo": state.tempo, "peers": state.clock_info.peers,
                         "clock": state.clock, "playing": state.playing,
                         "peer_tempo": peer.tempo}
        peer.tempo = 100.0  # a peer changes tempo
        state = _states(engine, 0.6, seen)
        out["peer_changed"] = {"tempo": state.tempo}
        engine.send(m.SetTempo(140.0))  # we change it: it goes out
        await asyncio.sleep(0.6)
        out["we_changed"] = {"peer_tempo": peer.tempo}
        peer.playing = False  # start/stop sync
        state = _states(engine, 0.6, seen)
        out["peer_stopped"] = {"playing": state.playing}
        peer.playing = True
        state = _states(engine, 2.5, seen)
        out["peer_started"] = {"playing": state.playing, "step": state.step}
        peer.enabled = False  # the session goes away
        state = _states(engine, 2.0, seen)
        out["gone"] = {"playing": state.playing, "tempo": state.tempo,
                       "peers": state.clock_info.peers, "problem": state.clock_problem,
                       "reports": [r.message for r in seen if isinstance(r, m.ClockProblem)]}
    finally:
        engine.stop()
    return out


async def joins_take_the_sessions_tempo() -> dict:
    """Six peers join, one after another, each at its own tempo (aalink issue 7)."""
    from aalink import Link

    from engine.link import LinkDriver
    from engine.player import Player
    from engine.ports import NullOutput

    peer = Link(128.0)
    peer.quantum = 4
    peer.enabled = True
    await asyncio.sleep(1.0)
    seen = []
    for k in range(6):
        player = Player(NullOutput(), time.perf_counter)
        player.set_mode("link", time.perf_counter())
        driver = LinkDriver(player, time.perf_counter, 100.0 + 7 * k)
        end = time.perf_counter() + 3.0
        while time.perf_counter() < end and not (driver.joined and driver.peers):
            driver.update(time.perf_counter())
            time.sleep(0.005)
        for _ in range(20):  # a little longer: a pushed tempo would show now
            driver.update(time.perf_counter())
            time.sleep(0.01)
        seen.append({"peers": driver.peers, "tempo": round(driver.link.tempo, 3),
                     "player_bpm": round(player.bpm, 3), "session": round(peer.tempo, 3)})
        driver.close()
    return {"joins": seen}


async def autobeat_play_joins() -> dict:
    """`autobeat play --clock link` with a peer at 128 BPM: what it says."""
    import subprocess
    import tempfile

    from aalink import Link

    peer = Link(128.0)
    peer.quantum = 4
    peer.enabled = True
    await asyncio.sleep(1.0)
    with tempfile.TemporaryDirectory() as tmp:
        beat = os.path.join(tmp, "beat.txt")
        with open(beat, "w") as fh:
            fh.write("genre:funk type:beat density:high intensity:mid group:1 "
                     "step:0 track:1 offset:0 velocity:100 end\n")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "autobeat_tui.cli", "play", beat, "--clock", "link",
            "--out", "none", "--bpm", "90", "--seconds", "3", "--json",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    return {"rc": proc.returncode, "stderr": err.decode(), "stdout": out.decode(),
            "session": round(peer.tempo, 3)}


if __name__ == "__main__":
    name = sys.argv[1]
    print(json.dumps(asyncio.run(globals()[name]())))
