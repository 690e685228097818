"""Playing like a drummer: fills on demand and at phrase ends, light variations between.

Headless (the app and ``autobeat play`` share it). The drummer decides which
bars get a one-bar alternative and describes the model job for each
(``DrumJob``); whoever owns the model runs it (``run_job``, one thread at a time)
and hands the result back (``Drummer.ready``), which gives the engine command
(``PlayOnce``) that plays it once. The groove itself never changes: what plays
in a fill or variation bar is never saved.

- ``arm``: a fill for the next bar, written at once. If it is not ready before
  that bar starts, the engine plays it at the next bar line instead.
- phrase (``Pattern.phrase``, 4, 8 or 16 bars): a fill in the last bar of every
  phrase (song bars counted from Start), asked for a phrase ahead (LOOKAHEAD).
- vary (``Pattern.vary``): the second bar of each loop outside a fill plays the
  groove with its hats mutated by that amount.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.messages import EngineState, PlayOnce
from patterns.pattern import Pattern

if TYPE_CHECKING:
    from models.runner import BeatWriter

HATS = 2  # the group a variation mutates
LOOKAHEAD = 2  # phrase fills written ahead: this phrase's and the next one's


@dataclass(frozen=True)
class DrumJob:
    """One model job: a fill or a variation of ``groove``'s bar ``bar`` (0, 1)."""

    id: int
    kind: str  # "fill" | "vary"
    groove: Pattern
    bar: int
    at_bar: int | None  # the song bar it is meant for (None: the next bar line)
    seed: int
    amount: float = 0.0  # vary: the share of the hats rewritten
    crash: bool = True  # fill: a crash on the 1 after it
    on_demand: bool = False


def run_job(model: BeatWriter, job: DrumJob) -> Pattern:
    """The pattern a job asks of the model (call with the model's lock held)."""
    if job.kind == "fill":
        return model.fill(job.groove, job.bar, job.seed)
    return model.mutate(job.groove, HATS, job.amount, job.seed)


@dataclass
class Drummer:
    rng: random.Random = field(default_factory=random.Random)
    crash: bool = True
    armed: DrumJob | None = None  # the fill asked for on demand, being written
    planned: set[int] = field(default_factory=set)  # song bars a job was asked for
    last_bar: int = -1
    _ids: int = 0

    def _job(self, kind: str, groove: Pattern, at_bar: int | None, bar: int,
             on_demand: bool = False) -> DrumJob:
        self._ids += 1
        return DrumJob(self._ids, kind, groove, bar, at_bar, self.rng.randrange(2**32),
                       amount=groove.vary, crash=self.crash, on_demand=on_demand)

    def arm(self, groove: Pattern, state: EngineState) -> DrumJob:
        """A fill for the next bar (written as the groove's bar of that parity)."""
        nxt = state.bar + 1 if state.playing else 0
        self.armed = self._job("fill", groove, None, nxt % 2, on_demand=True)
        return self.armed

    def reset(self) -> None:
        """Stopped: the bars planned belong to the song that stopped."""
        self.planned.clear()
        self.last_bar = -1

    def on_state(self, state: EngineState, groove: Pattern) -> list[DrumJob]:
        """Jobs to start for the bars ahead (phrase fills, variations)."""
        if not state.playing:
            if self.last_bar >= 0:
                self.reset()
            return []
        if state.bar == self.last_bar:
            return []
        self.last_bar = bar = state.bar
        return self.plan(bar, groove)

    def plan(self, bar: int, groove: Pattern) -> list[DrumJob]:
        jobs = []
        phrase = groove.phrase
        fill_bar = None
        if phrase:
            fill_bar = (bar // phrase) * phrase + phrase - 1
            # this phrase's fill and the next one's: a model held up for a while (a busy
            # machine) still has a whole phrase before the next fill is due
            for ahead in (fill_bar, fill_bar + phrase)[:LOOKAHEAD]:
                if ahead > bar and ahead not in self.planned:
                    self.planned.add(ahead)
                    jobs.append(self._job("fill", groove, ahead, ahead % 2))
        nxt = bar + 1
        if (groove.vary and nxt % 2 == 1 and nxt != fill_bar and nxt not in self.planned
                and not (phrase and nxt % phrase == phrase - 1)):
            self.planned.add(nxt)
            jobs.append(self._job("vary", groove, nxt, 1))
        self.planned = {b for b in self.planned if b >= bar}
        return jobs

    def ready(self, job: DrumJob, result: Pattern) -> PlayOnce:
        """The engine command that plays a finished job once."""
        if job is self.armed:
            self.armed = None
        fill = job.kind == "fill"
        return PlayOnce(result, job.bar, fill=fill, crash=fill and job.crash, at_bar=job.at_bar)

    def failed(self, job: DrumJob) -> None:
        if job is self.armed:
            self.armed = None
