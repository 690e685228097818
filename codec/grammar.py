"""Constrained decoding: which token ids may come next in a group's events.

A ``GroupGrammar`` follows the tokens a model writes after the prompt (the
header is part of the prompt) and answers, before every step, the set of ids
that keep the sequence well formed (``codec.tokens``' grammar):

- an event is ``step track offset velocity``; then another event or ``end``;
- (step, track) strictly rises, and a track is always one of the group's;
- at most ``max_events`` events and, where the budget of tokens allows, at
  least ``min_events`` (the asked density's range of event counts);
- ``keep`` (for mutate): events that must appear as they are; the model fills
  in around them, and cannot end before all of them are written;
- ``echo`` (the loop form "repeat"): when the model leaves bar 1, the cells of
  its bar 1 before step ``echo.until`` are kept for bar 2, each with
  probability ``echo.share``; the model writes their offset and velocity anew
  (a drummer repeats a bar, never to the tick), and the rest of bar 2 (the end
  of the phrase) freely. The runner calls ``wants_echo`` with each sampled step
  token and, where it answers yes, ``start_echo`` and samples again;
- ``budget``: tokens left in the model's context; ``end`` is forced in time;
- ``prefix``: events already written (the runner puts their tokens in the prompt):
  the model goes on after the last of them (a fill after the bar before it).

Every sequence sampled under the mask decodes with ``codec.tokens.decode``
(strict). The mask is never empty: ``end`` is the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from codec.errors import CodecError
from codec.vocab import END, VELOCITY_VALUES, Vocabulary, quantize_velocity
from patterns.grid import GROUPS, MAX_OFFSET, MIN_OFFSET, STEPS, STEPS_PER_BAR
from patterns.pattern import Event

EXPECT_STEP, EXPECT_TRACK, EXPECT_OFFSET, EXPECT_VELOCITY, DONE = range(5)
EVENT_TOKENS = 4


class TokenIds:
    """The ids of the event tokens in a vocabulary, looked up once."""

    def __init__(self, vocab: Vocabulary):
        self.size = len(vocab)
        self.end = vocab.id(END)
        self.step = np.array([vocab.id(f"step:{s}") for s in range(STEPS)])
        self.track = {t: vocab.id(f"track:{t}") for g in GROUPS for t in g.tracks}
        self.offset = np.array([vocab.id(f"offset:{o}") for o in range(MIN_OFFSET, MAX_OFFSET + 1)])
        self.velocity = np.array([vocab.id(f"velocity:{v}") for v in VELOCITY_VALUES])
        self.step_of = {int(i): s for s, i in enumerate(self.step)}
        self.track_of = {i: t for t, i in self.track.items()}
        self.offset_of = {int(i): o for o, i in zip(range(MIN_OFFSET, MAX_OFFSET + 1), self.offset,
                                                     strict=True)}
        self.velocity_of = {int(i): v for v, i in zip(VELOCITY_VALUES, self.velocity, strict=True)}


@dataclass(frozen=True, slots=True)
class Echo:
    """Bar 2 repeats bar 1 (see the module docstring)."""

    rng: np.random.Generator
    share: float = 0.95  # each cell of bar 1 is kept with this probability
    until: int = 16  # cells of bar 1 before this step are echoed (16: the whole bar)
    extra: int = 2  # events bar 2 may add to the echo (a variation, a pickup at the end)


class GroupGrammar:
    """The state machine of one group's events (see the module docstring)."""

    def __init__(
        self,
        ids: TokenIds,
        group: int,
        *,
        min_events: int = 0,
        max_events: int | None = None,
        keep: Sequence[Event] = (),
        budget: int | None = None,
        echo: Echo | None = None,
        prefix: Sequence[Event] = (),
    ):
        if not 1 <= group <= len(GROUPS):
            raise CodecError(f"group must be in 1..{len(GROUPS)}, got {group}")
        self.ids = ids
        self.group = group
        self.tracks = GROUPS[group - 1].tracks
        self.keep = sorted(keep, key=lambda e: (e.step, e.track))
        for e in self.keep:
            if e.group != group:
                raise CodecError(f"kept event on track {e.track} is not in group {group}")
        limit = len(self.tracks) * STEPS
        self.max_events = min(limit, limit if max_events is None else max_events)
        self.max_events = max(self.max_events, len(self.keep))
        self._asked_max = self.max_events
        self.min_events = max(0, min(min_events, self.max_events))
        self.budget = budget  # tokens left, end included
        self.state = EXPECT_STEP
        self.events: list[Event] = []
        self._last = (-1, 0)  # (step, track) of the last event
        self._kept_done = 0
        self._step = self._track = self._offset = 0
        self._forced: Event | None = None  # the kept event being written
        self._allowed: np.ndarray | None = None  # cache of allowed_ids() for this state
        self._relaxed = False  # no step left room for min_events: order alone rules
        self.echo = echo
        prefix = sorted(prefix, key=lambda e: (e.step, e.track))
        for e in prefix:
            if e.group != group:
                raise CodecError(f"prefix event on track {e.track} is not in group {group}")
        if prefix and self.keep and (self.keep[0].step, self.keep[0].track) <= (
                prefix[-1].step, prefix[-1].track):
            raise CodecError("kept events must come after the prefix")
        self.events = list(prefix)
        if prefix:
            self._last = (prefix[-1].step, prefix[-1].track)
            self.max_events = max(self.max_events, len(prefix) + len(self.keep))
        self._loose: set[tuple[int, int]] = set()  # kept cells whose offset/velocity are free

    # --- reading the state --------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state == DONE

    def _next_kept(self) -> Event | None:
        return self.keep[self._kept_done] if self._kept_done < len(self.keep) else None

    def _must_take_kept(self) -> bool:
        remaining = len(self.keep) - self._kept_done
        return remaining > 0 and len(self.events) + remaining >= self.max_events

    def _need(self) -> int:
        """Events still needed for min_events (this one included), as far as the budget allows."""
        need = self.min_events - len(self.events)
        if self.budget is not None:
            # tokens left when the step is to be chosen: 4 an event, then end
            left = self.budget if self.state == EXPECT_STEP else self.budget + 1
            need = min(need, (left - 1) // EVENT_TOKENS)
        return max(0, need)

    def _cells_from(self, step: int, track: int) -> int:
        """How many (step, track) cells of the group there are from (step, track) on."""
        n = len(self.tracks)
        return sum(1 for u in self.tracks if u >= track) + (STEPS - 1 - step) * n

    def _tracks_after(self, step: int, strict: bool = True) -> list[int]:
        """Tracks that may sit on ``step`` given the order and the next kept event.

        strict: also leave room for the events min_events still needs.
        """
        last_step, last_track = self._last
        tracks = [t for t in self.tracks if (step, t) > (last_step, last_track)]
        need = self._need()
        if strict and need > 1:  # leave room for the events still needed
            tracks = [t for t in tracks if self._cells_from(step, t) >= need]
        kept = self._next_kept()
        if kept is not None and step == kept.step:
            if self._must_take_kept():
                return [kept.track] if kept.track in tracks else []
            tracks = [t for t in tracks if t <= kept.track]
        return tracks

    def _steps(self) -> list[int]:
        kept = self._next_kept()
        if kept is not None and self._must_take_kept():
            return [kept.step]
        if len(self.events) >= self.max_events:
            return []
        first = max(self._last[0], 0)
        last = kept.step if kept is not None else STEPS - 1
        steps = self._open_steps(first, last, strict=True)
        self._relaxed = not steps
        if self._relaxed:
            steps = self._open_steps(first, last, strict=False)
        return steps

    def _open_steps(self, first: int, last: int, strict: bool) -> list[int]:
        """The steps in first..last where some track may sit (``_tracks_after`` non-empty).

        Only `first` (the last event's step: the order rules out some tracks) and
        `last` (the next kept event's step) need the full rule; on a step between
        them every track is open, so the step is open when its cells from the
        group's first track on (all n tracks, on this step and every later one)
        leave room for the events still needed. One sample step of every sequence
        comes through here: it is kept cheap.
        """
        need = self._need() if strict else 0
        room = len(self.tracks)
        out = []
        for s in range(first, last + 1):
            if s == first or s == last:
                if self._tracks_after(s, strict):
                    out.append(s)
            elif need <= 1 or room * (STEPS - s) >= need:
                out.append(s)
        return out

    def _may_end(self) -> bool:
        return self._next_kept() is None and len(self.events) >= self.min_events

    def allowed_ids(self) -> np.ndarray:
        """The ids that may come next (never empty until done)."""
        if self._allowed is None:
            self._allowed = self._compute_allowed()
        return self._allowed

    def _compute_allowed(self) -> np.ndarray:
        ids = self.ids
        if self.state == EXPECT_STEP:
            room = self.budget is None or self.budget > EVENT_TOKENS
            steps = self._steps() if room else []
            out = [int(ids.step[s]) for s in steps]
            if self._may_end() or not out:
                out.append(ids.end)
            return np.array(out, dtype=np.int64)
        if self.state == EXPECT_TRACK:
            tracks = self._tracks_after(self._step, strict=not self._relaxed)
            return np.array([ids.track[t] for t in tracks], dtype=np.int64)
        if self.state == EXPECT_OFFSET:
            if self._forced is not None and not self._is_loose():
                return np.array([ids.offset[self._forced.offset - MIN_OFFSET]], dtype=np.int64)
            return ids.offset.astype(np.int64)
        if self.state == EXPECT_VELOCITY:
            if self._forced is not None and not self._is_loose():
                v = quantize_velocity(self._forced.velocity)
                return np.array([ids.velocity[VELOCITY_VALUES.index(v)]], dtype=np.int64)
            return ids.velocity.astype(np.int64)
        return np.zeros(0, dtype=np.int64)

    def _is_loose(self) -> bool:
        f = self._forced
        return f is not None and (f.step, f.track) in self._loose

    def mask(self) -> np.ndarray:
        """A boolean mask over the vocabulary: True where a token may come next."""
        m = np.zeros(self.ids.size, dtype=bool)
        m[self.allowed_ids()] = True
        return m

    # --- the loop form ------------------------------------------------------------

    def wants_echo(self, token_id: int) -> bool:
        """True where ``token_id`` (just sampled) would leave bar 1 before its echo is set."""
        if self.echo is None or self.state != EXPECT_STEP:
            return False
        if not any(e.step < STEPS_PER_BAR for e in self.events):
            return False
        token_id = int(token_id)
        return token_id == self.ids.end or self.ids.step_of.get(token_id, 0) >= STEPS_PER_BAR

    def start_echo(self) -> None:
        """Keep bar 1's cells for bar 2 (loose: offset and velocity are the model's)."""
        echo, self.echo = self.echo, None
        assert echo is not None
        copies = [Event(e.step + STEPS_PER_BAR, e.track, e.offset, e.velocity)
                  for e in self.events if e.step < echo.until and echo.rng.random() < echo.share]
        copies = [e for e in copies if (e.step, e.track) > self._last]
        self.keep = sorted(self.keep[self._kept_done:] + copies, key=lambda e: (e.step, e.track))
        self._kept_done = 0
        self._loose |= {(e.step, e.track) for e in copies}
        # room for the echo and a variation, inside the asked density where the echo fits
        fixed = len(self.events) + len(self.keep)
        self.max_events = max(self.min_events, fixed, min(self._asked_max, fixed + echo.extra))
        self._allowed = None

    # --- moving on ----------------------------------------------------------------

    def advance(self, token_id: int) -> None:
        """Take one token; raises CodecError if the grammar does not allow it."""
        token_id = int(token_id)
        if token_id not in self.allowed_ids():
            raise CodecError(f"token id {token_id} is not allowed in state {self.state}")
        self._allowed = None
        if self.budget is not None:
            self.budget -= 1
        ids = self.ids
        if self.state == EXPECT_STEP:
            if token_id == ids.end:
                self.state = DONE
                return
            self._step = ids.step_of[token_id]
            self.state = EXPECT_TRACK
        elif self.state == EXPECT_TRACK:
            self._track = ids.track_of[token_id]
            kept = self._next_kept()
            if kept is not None and (kept.step, kept.track) == (self._step, self._track):
                self._forced = kept
            self.state = EXPECT_OFFSET
        elif self.state == EXPECT_OFFSET:
            self._offset = ids.offset_of[token_id]
            self.state = EXPECT_VELOCITY
        elif self.state == EXPECT_VELOCITY:
            if self._is_loose():
                velocity = ids.velocity_of[token_id]
                self.events.append(Event(self._step, self._track, self._offset, velocity))
                self._kept_done += 1
                self._forced = None
            elif self._forced is not None:
                self.events.append(self._forced)
                self._kept_done += 1
                self._forced = None
            else:
                velocity = ids.velocity_of[token_id]
                self.events.append(Event(self._step, self._track, self._offset, velocity))
            self._last = (self._step, self._track)
            self.state = EXPECT_STEP
