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


async def _playing_peer():
    """A peer at 128 BPM with start/stop sync, playing, a second old (it is the session)."""
    from aalink import Link

    peer = Link(128.0)
    peer.quantum = 4
    peer.start_stop_sync_enabled = True
    peer.enabled = True
    peer.playing = True
    await asyncio.sleep(1.0)
    return peer


async def join_follow_and_lead() -> dict:
    """A peer at 128 BPM, playing; the engine joins at 120 and plays."""
    peer = await _playing_peer()
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


async def audio_follows_link() -> dict:
    """The sound card under Link: the audio output's shadow player follows the session's
    timeline (start, tempo, phase) as the MIDI player does. A peer at 128 BPM plays; the
    engine joins with the built-in kit on the null backend and plays 16ths; then the peer
    goes to 100 BPM. Each hit the audio asked for, read on the peer's own timeline."""
    from engine.audio import AudioStats
    from engine.link import ClockMap, LinkTimeline

    peer = await _playing_peer()
    timeline = LinkTimeline(peer)
    cmap = ClockMap(time.perf_counter, timeline.now)
    samples: list = []
    seen: list = []
    engine = Engine(out="audio", audio_backend="null", record=True, link=True, realtime=False)
    engine.start()
    try:
        engine.send(m.SetPattern(Pattern(events=tuple(Event(s, 3) for s in range(32))),
                                 at="now"))
        engine.send(m.Transport("start"))
        end = time.monotonic() + 5.0  # join (0.6 s), then the session's next bar
        while time.monotonic() < end:
            cmap.sample()
            samples.append((time.perf_counter(), timeline.sample()))
            _states(engine, 0.05, seen)
        changed_at = time.perf_counter()
        peer.tempo = 100.0
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            cmap.sample()
            samples.append((time.perf_counter(), timeline.sample()))
            _states(engine, 0.05, seen)
        engine.send(m.RequestAudioStats())
        stats = engine.wait_for(AudioStats, 15.0)
    finally:
        engine.stop()
        peer.enabled = False
    times = [t for t, _ in samples]
    errors = []
    for due, _sample, _track in stats.hits:
        i = max(0, sum(1 for t in times if t <= due) - 1)
        sample = samples[i][1]
        beat = LinkTimeline.beat_at(sample, cmap.to_link(due))
        errors.append((due - changed_at, (beat - round(beat * 4) / 4) * 60.0 / sample.tempo
                       * 1000.0))
    before = [e for t, e in errors if t < 0]
    after = [e for t, e in errors if t > 60.0 / 100.0]  # a beat after the change
    spacing = [round((b - a) * 1000.0, 1) for (a, _, _), (b, _, _)
               in zip(stats.hits, stats.hits[1:], strict=False)]
    return {"hits": len(stats.hits), "before": before, "after": after,
            "spacing_ms": spacing[-4:]}


if __name__ == "__main__":
    name = sys.argv[1]
    print(json.dumps(asyncio.run(globals()[name]())))
