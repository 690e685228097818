"""Fixtures for the app's tests: an app on test doubles, deterministic."""

from __future__ import annotations

import random
import time

import pytest

from autobeat_tui.app import AutoBeatApp
from autobeat_tui.live.session import Session
from patterns.bank import Bank, save_bank
from tests.autobeat_tui.tui_doubles import FakeModel, RecordingEngine


def make_app(tmp_path, *, model=None, pattern=None, bank=None, load_model="fake", **kwargs):
    from codec.midi import write_midi

    session = Session(
        pattern,
        bank=bank if bank is not None else Bank(),
        bank_path=tmp_path / "bank.json",
        save_bank=save_bank,
        write_midi=write_midi,
        rng=random.Random(11),
    )
    engine = RecordingEngine()
    engine.started = True
    model = model or FakeModel()
    loader = (lambda: model) if load_model == "fake" else load_model
    kwargs.setdefault("start_engine", False)
    app = AutoBeatApp(session, engine, loader, bank_label="bank.json", **kwargs)
    return app, engine, model


@pytest.fixture
def app_parts(tmp_path):
    return make_app(tmp_path)


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Wait (on a busy machine too) until the condition holds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.01)
