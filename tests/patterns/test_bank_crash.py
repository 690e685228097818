"""Crash safety: a process saving in a loop, killed with SIGKILL at random moments.

After every kill the bank on disk loads, with no warnings, and holds one whole
version that was saved (old or new, never a mix); NAME.bak loads too. Each child
also takes the bank's lock first, so every round also takes over the stale lock
its killed predecessor left.
"""

from __future__ import annotations

import os
import random
import signal
import time

from patterns.bank import Bank, BankLock, load_bank, save_bank
from patterns.pattern import Event, GroupParams, Pattern

ROUNDS = 300
SLOTS = ("A01", "A02", "B07", "C16", "H16")


def _version(n: int) -> Bank:
    """Version n of the bank: every slot says n, so a mix of two versions shows."""
    slots = {}
    for i, slot in enumerate(SLOTS):
        events = tuple(Event(step, 5, n % 40 - 20, 1 + (n + i) % 127) for step in range(0, 32, 2))
        params = tuple(GroupParams(seed=n) for _ in range(4))
        slots[slot] = Pattern(events, params, tempo=60.0 + n % 200, name=f"v{n}")
    return Bank(slots, name=f"v{n}")


def _version_of(bank: Bank) -> int:
    n = int(bank.name[1:])
    assert bank == _version(n), f"the bank on disk mixes versions (says v{n})"
    return n


def _saver(path: str, start: int) -> None:  # pragma: no cover - runs in the child
    code = 3
    try:
        BankLock(path).acquire()  # the killed child's lock is stale: taken over
        versions = [_version(n) for n in range(start, start + 50)]
        code = 4
        n = 0
        while True:
            save_bank(versions[n % len(versions)], path)
            n += 1
    finally:
        os._exit(code)


def test_saves_killed_at_random_moments_never_lose_the_bank(tmp_path):
    path = tmp_path / "bank.json"
    save_bank(_version(0), path)
    rng = random.Random(20261126)
    seen = set()
    changed = 0
    mid_save = 0  # kills that left a half-done save behind (a temp file)
    last = 0
    round_ = -1
    # a busy machine may land fewer kills in the middle of a save: rounds go on until
    # ROUNDS // 10 did (the run can be judged), three times ROUNDS at the most
    while round_ + 1 < ROUNDS or (mid_save < ROUNDS // 10 and round_ + 1 < 3 * ROUNDS):
        round_ += 1
        start = 1 + round_ * 50
        pid = os.fork()
        if pid == 0:  # pragma: no cover
            _saver(str(path), start)
        time.sleep(rng.uniform(0.0, 0.04))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), f"the saver stopped by itself: {status}"
        mid_save += any(p.name.startswith(f".bank.json.{pid}.") for p in tmp_path.iterdir())
        result = load_bank(path)
        assert result.warnings == ()
        n = _version_of(result.bank)
        assert n == last or start <= n < start + 50  # the old content or a new one
        changed += n != last
        last = n
        seen.add(n)
        if (tmp_path / "bank.json.bak").exists():
            _version_of(load_bank(tmp_path / "bank.json.bak").bank)
    # the kills landed both before a first save finished and after several
    assert 0 < changed < round_ + 1
    # and many landed in the middle of a save
    assert mid_save >= ROUNDS // 10, mid_save
    print(f"{round_ + 1} kills: {changed} after a new save, {mid_save} in the middle of one")
    # temp files of the killed savers are cleaned by the next save
    save_bank(_version(0), path)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith("tmp")]
    assert leftovers == []
