"""Ableton Link: the clock map (pure), and the engine in a Link session.

The session tests run only inside a network namespace with nothing but loopback
(``unshare -rn``, lo up, multicast routed to lo): Link traffic never reaches a
real interface. Each runs a scenario of tests/engine/link_scenarios.py there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from engine.link import ClockMap, LinkTimeline, Sample

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def test_the_clock_map_is_exact_across_an_offset_and_a_slewed_rate():
    """Link's clock (raw) against the engine's, which NTP slews by 200 ppm."""
    state = {"raw": 5000.0}
    step = 0.0001

    def engine_now() -> float:
        state["raw"] += step
        return 100.0 + (state["raw"] - 5000.0) * (1 + 200e-6)

    def link_now() -> float:
        state["raw"] += step
        return state["raw"]

    cmap = ClockMap(engine_now, link_now)
    for _ in range(40):  # a reading pair every quarter second, 10 s of them
        state["raw"] += 0.25
        cmap.sample()
    raw = state["raw"] + 1.0
    engine_t = 100.0 + (raw - 5000.0) * (1 + 200e-6)
    assert cmap.to_link(engine_t) == pytest.approx(raw, abs=2e-6)
    assert cmap.to_engine(raw) == pytest.approx(engine_t, abs=2e-6)
    assert cmap.to_engine(cmap.to_link(engine_t)) == pytest.approx(engine_t, abs=1e-9)


def test_a_beat_is_placed_by_the_sample_and_the_tempo():
    sample = Sample(link_time=10.0, beat=7.5, tempo=120.0)
    assert LinkTimeline.beat_at(sample, 10.0) == 7.5
    assert LinkTimeline.beat_at(sample, 11.0) == pytest.approx(9.5)
    assert LinkTimeline.beat_at(sample, 9.75) == pytest.approx(7.0)


def test_the_map_against_links_own_clock():
    """aalink's clock read through the map lands where the engine's clock says."""
    aalink = pytest.importorskip("aalink")
    import asyncio
    import time

    async def make():
        return aalink.Link(120.0)  # never enabled: no traffic

    loop = asyncio.new_event_loop()
    link = loop.run_until_complete(make())
    try:
        timeline = LinkTimeline(link)
        cmap = ClockMap(time.perf_counter, timeline.now)
        for _ in range(5):
            time.sleep(0.05)
            cmap.sample()
        for _ in range(20):
            before = time.perf_counter()
            t = timeline.now()
            after = time.perf_counter()
            mapped = cmap.to_engine(t)
            assert before - 50e-6 <= mapped <= after + 50e-6
    finally:
        del link
        loop.close()


def in_loopback_namespace(scenario: str, timeout: float = 90.0) -> dict:
    """Run a scenario in a network namespace of its own with only loopback."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{tool} is not installed (CI installs util-linux and iproute2)")
            pytest.skip(f"{tool} is not installed")
    pytest.importorskip("aalink")
    script = os.path.join(HERE, "link_scenarios.py")
    command = (f"ip link set lo up && ip route add 224.0.0.0/4 dev lo && "
               f"exec {sys.executable} {script} {scenario}")
    env = {**os.environ, "PYTHONPATH": ROOT}
    out = subprocess.run(["unshare", "-rn", "sh", "-c", command], capture_output=True,
                         text=True, timeout=timeout, env=env)
    if out.returncode != 0:
        if "unshare" in out.stderr and "Operation not permitted" in out.stderr:
            pytest.fail(f"no network namespace here: {out.stderr.strip()}")
        raise AssertionError(f"{scenario} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_engine_joins_follows_leads_and_plays_on_when_the_session_goes():
    seen = in_loopback_namespace("join_follow_and_lead")
    joined = seen["joined"]
    # it joined at 120 and took the session's 128, which stayed 128 (aalink issue 7)
    assert joined["clock"] == "link" and joined["peers"] == 1
    assert joined["tempo"] == pytest.approx(128.0, abs=0.01)
    assert joined["peer_tempo"] == pytest.approx(128.0, abs=0.01)
    # (joining changes no one's start/stop state, as Link's test plan asks)
    assert seen["peer_changed"]["tempo"] == pytest.approx(100.0, abs=0.01)
    assert seen["we_changed"]["peer_tempo"] == pytest.approx(140.0, abs=0.01)
    assert not seen["peer_stopped"]["playing"]
    assert seen["peer_started"]["playing"]
    gone = seen["gone"]
    assert gone["playing"] and gone["peers"] == 0
    assert gone["tempo"] == pytest.approx(140.0, abs=0.01)
    assert gone["reports"] == [
        "the Link session is gone (no peers): playing on at 140.0 BPM"]


def test_every_peer_that_joins_takes_the_sessions_tempo():
    """aalink issue 7: a new peer could push its own tempo over the session's."""
    joins = in_loopback_namespace("joins_take_the_sessions_tempo")["joins"]
    assert len(joins) == 6
    for j in joins:
        assert j["peers"] == 1, joins
        assert j["tempo"] == j["player_bpm"] == j["session"] == 128.0, joins


def test_autobeat_play_clock_link_joins_and_says_so():
    seen = in_loopback_namespace("autobeat_play_joins")
    assert seen["rc"] == 0, seen["stderr"]
    assert "joining the Link session" in seen["stderr"]
    assert "link, 1 peer, 128.0 BPM, playing" in seen["stderr"], seen["stderr"]
    assert '"tempo": 128.0' in seen["stdout"]
    assert seen["session"] == 128.0  # --bpm 90 did not push over the session's tempo


def test_the_sound_card_follows_the_link_session():
    """--out audio with --clock link: the built-in kit plays on the session's 16ths, and
    follows a peer's tempo change (the audio's shadow player gets Link's timeline)."""
    seen = in_loopback_namespace("audio_follows_link")
    assert len(seen["before"]) >= 12 and len(seen["after"]) >= 8, seen
    assert max(abs(e) for e in seen["before"]) <= 2.0, seen["before"]
    assert max(abs(e) for e in seen["after"]) <= 2.0, seen["after"]
    assert seen["spacing_ms"] == [150.0] * 4  # 16ths at the peer's new 100 BPM
