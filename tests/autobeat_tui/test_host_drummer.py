"""Fills and variations under the host (where the session has a drummer)."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("autobeat_tui.live.drummer")  # the drummer of issue 13

from tests.autobeat_tui.test_host import Running, runtime, wait_for  # noqa: E402,F401


@pytest.fixture
def host(tmp_path, runtime):  # noqa: F811
    running = Running(tmp_path, runtime)
    yield running
    running.close()


def test_fill_on_demand_is_written_by_the_host_s_model(host):
    with host.client("watch") as c:
        wait_for(lambda: host.core.model is not None)
        assert c.run("hit kick 1")[0]
        host.engine.report(playing=True, step=3, bar=1)
        wait_for(lambda: host.session.engine.playing)
        ok, text = c.run("fill")
        assert (ok, text) == (True, "fill armed: the model is writing it for the next bar")
        end = time.monotonic() + 10
        while "fill ready: it plays in the next bar" not in [m.text for m in host.core.messages]:
            assert time.monotonic() < end, host.core.messages[-5:]
            time.sleep(0.01)
        assert host.model.calls and host.model.calls[-1][0] == "fill"


def test_phrase_fills_are_planned_and_written_as_the_engine_plays(host):
    with host.client() as c:
        wait_for(lambda: host.core.model is not None)
        assert c.run("hit kick 1")[0]
        ok, text = c.run("phrase 4")
        assert ok and text.startswith("phrase 4")
        for bar in (1, 2):
            host.engine.report(playing=True, step=0, bar=bar)
            wait_for(lambda bar=bar: host.session.engine.bar == bar)
        wait_for(lambda: any(call[0] == "fill" for call in host.model.calls))
