"""The session: what the app edits and plays, and what each action sends the engine.

Headless. Each action changes the session and queues engine commands in
``outbox`` (the app sends them); it returns a line for the user, or raises
``CommandError`` and changes nothing. Generation itself runs in the app's worker:
``gen_request`` describes the job, ``apply_generated`` takes its result.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import count
from pathlib import Path

from autobeat_tui.live import language as lang
from autobeat_tui.live.chain import ChainPlayer
from autobeat_tui.live.drummer import DrumJob, Drummer
from autobeat_tui.live.history import History
from autobeat_tui.live.steps import format_track
from engine.messages import (
    CancelOnce,
    EngineState,
    SetClock,
    SetMute,
    SetOutput,
    SetPattern,
    SetSolo,
    SetSwing,
    SetTempo,
    SetTrigSeed,
    SwapGroup,
    Transport,
)
from models.runner import DEFAULT_MUTATE_AMOUNT
from patterns.bank import SLOT_NAMES, BankError
from patterns.bank import Chain as BankChain
from patterns.conditions import describe, next_condition, played_out
from patterns.grid import GROUPS, STEPS, TRACKS
from patterns.pattern import (
    AUTO,
    AUTO_LEVELS,
    LEVEL_CHOICES,
    MAX_SWING,
    MAX_TEMPO,
    MIN_SWING,
    MIN_TEMPO,
    TYPES,
    Event,
    Pattern,
    PatternError,
)

CommandError = lang.CommandError
DEFAULT_AMOUNT = DEFAULT_MUTATE_AMOUNT
VELOCITY_STEP = 10
IDLE, GENERATING, WAITING = "", "generating", "waiting for bar"


@dataclass(frozen=True)
class GenRequest:
    """One job for the model worker: a snapshot and what to write."""

    id: int
    kind: str  # "group" | "all" | "mutate"
    groups: tuple[int, ...]
    pattern: Pattern  # the snapshot the model reads (params already set)
    seed: int
    temperature: float | None = None
    amount: float = DEFAULT_AMOUNT


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _merged(saved, bank):
    """(the bank as saved, the merge's notes): save_bank merges changes made on disk by
    another program (patterns.bank_merge) and says where both sides changed a slot."""
    merged = getattr(saved, "bank", None)
    if merged is None:
        return bank, ()
    return merged, tuple(getattr(saved, "notes", ()))


class Session:
    """The pattern on screen, its history, the cursor, mutes, slots and the bank."""

    def __init__(
        self,
        pattern: Pattern | None = None,
        *,
        bank=None,
        bank_path: Path | None = None,
        bank_writable: bool = True,
        save_bank: Callable | None = None,
        write_midi: Callable | None = None,
        kit=None,
        slot: str = "A01",
        genres: Sequence[str] = lang.DEFAULT_GENRES,
        rng: random.Random | None = None,
    ) -> None:
        self.history = History(pattern or Pattern())
        self.bank = bank
        self.bank_path = bank_path
        self.bank_writable = bank_writable
        self._save_bank = save_bank
        self._write_midi = write_midi
        self.kit = kit
        self.slot = slot
        self.genres = tuple(genres)
        self.rng = rng or random.Random()
        self.selected = 1
        self.cursor_track = 1
        self.cursor_step = 0
        self.mutes: set[int] = set()
        self.solos: set[int] = set()
        self.amount = DEFAULT_AMOUNT
        self.playing = False
        self.clock_mode = "internal"  # internal | master | follow | link
        self.clock_in: str | None = None
        self.lane_state: dict[int, str] = {g.number: IDLE for g in GROUPS}
        self.queued: tuple[str, Pattern] | None = None
        self.chain: ChainPlayer | None = None
        self.outbox: list = []
        self._next_request = 0
        self.latest_request = 0
        self.engine = EngineState()
        self._saw_pending = False  # the engine said something waits for the bar line
        # the global tempo: every pattern plays at it unless it keeps its own (`bpm own`)
        self.tempo = bank.tempo if bank is not None and bank.tempo else self.pattern.tempo
        self.history.replace(self._at_tempo(self.pattern))
        self.drummer = Drummer(self.rng)  # fills and variations (autobeat_tui/live/drummer.py)
        self.jobs: list[DrumJob] = []  # drum jobs for the app's model worker
        self.trig_seed = 0  # the seed conditional trigs play out from

    def _at_tempo(self, pattern: Pattern) -> Pattern:
        """A pattern about to play: at the global tempo unless it keeps its own."""
        if pattern.own_tempo or pattern.tempo == self.tempo:
            return pattern
        return pattern.with_tempo(self.tempo)

    # --- reading ----------------------------------------------------------------

    @property
    def pattern(self) -> Pattern:
        return self.history.present

    def filled_slots(self) -> list[str]:
        return list(self.bank.filled()) if self.bank is not None else []

    def literals(self) -> dict[int, str]:
        p = self.pattern
        return {t.number: format_track(p.events, t.number, p.conditions) for t in TRACKS}

    def send(self, *commands) -> None:
        self.outbox.extend(commands)

    def take_outbox(self) -> list:
        out, self.outbox = self.outbox, []
        return out

    def _group(self, group: int | None) -> int:
        return self.selected if group is None else group

    # --- editing -----------------------------------------------------------------

    def _edit(self, pattern: Pattern, groups: Sequence[int]) -> None:
        """Commit an edit and play it at once."""
        before = self.pattern
        self.history.commit(pattern)
        if pattern.conditions != before.conditions:  # SwapGroup carries no conditions
            self.send(SetPattern(pattern, at="now"))
            return
        for g in sorted(set(groups)):
            self.send(SwapGroup(g, pattern.group_events(g), at="now"))

    def _track_group(self, track: int) -> int:
        return TRACKS[track - 1].group

    def set_hit(self, track: int, step: int, velocity: int | None = None) -> str:
        old = self.pattern.at(step, track)
        vel = velocity if velocity is not None else (old.velocity if old else 100)
        offset = old.offset if old else 0
        self._edit(
            self.pattern.with_event(Event(step, track, offset, vel)), [self._track_group(track)]
        )
        return f"{TRACKS[track - 1].name} step {step + 1}: velocity {vel}"

    def clear(
        self, track: int | None = None, step: int | None = None, group: int | None = None
    ) -> str:
        if group is not None:
            self._edit(self.pattern.with_group(group, ()), [group])
            return f"cleared group {group} ({GROUPS[group - 1].name})"
        assert track is not None
        name = TRACKS[track - 1].name
        if step is None:
            self._edit(self.pattern.with_track(track, ()), [self._track_group(track)])
            return f"cleared {name}"
        self._edit(self.pattern.without_event(step, track), [self._track_group(track)])
        return f"{name} step {step + 1}: cleared"

    def toggle_hit(self, track: int, step: int) -> str:
        if self.pattern.at(step, track) is not None:
            return self.clear(track, step)
        return self.set_hit(track, step, 100)

    def change_velocity(self, track: int, step: int, value: int, relative: bool) -> str:
        old = self.pattern.at(step, track)
        if old is None:
            if relative:
                raise CommandError(f"vel: no hit on {TRACKS[track - 1].name} step {step + 1}")
            return self.set_hit(track, step, value)
        vel = int(_clamp(old.velocity + value if relative else value, 1, 127))
        return self.set_hit(track, step, vel)

    def literal(self, track: int, events: tuple[Event, ...], conditions: tuple = ()) -> str:
        p = self.pattern.with_track(track, events)
        kept = tuple(c for c in p.conditions if c[0][1] != track)
        self._edit(replace(p, conditions=kept + tuple(conditions)), [self._track_group(track)])
        said = f" ({len(conditions)} with conditions)" if conditions else ""
        return f"{TRACKS[track - 1].name}: {len(events)} hits{said}"

    # --- conditional trigs, fills, phrases ------------------------------------------

    def condition(self, cmd: lang.Cond) -> str:
        """Set, clear, cycle or list conditional trigs (patterns/conditions.py)."""
        if cmd.seed is not None:
            self.trig_seed = cmd.seed
            self.send(SetTrigSeed(cmd.seed))
            return f"conditions play out from seed {cmd.seed}"
        if cmd.track is None or cmd.step is None:
            listed = describe(self.pattern.conditions)
            return f"conditions: {listed}" if listed else "no conditional trigs"
        track, step = cmd.track, cmd.step
        name = f"{TRACKS[track - 1].name} step {step + 1}"
        if self.pattern.at(step, track) is None:
            raise CommandError(f"cond: no hit on {name} to put a condition on")
        cond = cmd.condition
        if cmd.cycle:
            cond = next_condition(self.pattern.cond_at(step, track), cmd.cycle)
        self._edit(self.pattern.with_condition(step, track, cond), [self._track_group(track)])
        return f"{name}: {cond if cond is not None else 'no condition'}"

    def arm_fill(self) -> DrumJob:
        """A fill for the next bar: the job for the model worker."""
        return self.drummer.arm(self.pattern, self.engine)

    def fill_ready(self, job: DrumJob, result: Pattern) -> str | None:
        self.send(self.drummer.ready(job, result))
        if job.on_demand:
            return "fill ready: it plays in the next bar"
        return None

    def set_crash(self, on: bool) -> str:
        self.drummer.crash = on
        return f"crash after a fill {'on' if on else 'off'}"

    def set_phrase(self, bars: int) -> str:
        before = self.pattern.phrase
        self.history.replace(replace(self.pattern, phrase=bars))
        if before and before != bars:  # the fills planned for the old phrase go
            self.send(CancelOnce())
            self.drummer.reset()
        if not bars:
            return "phrase off"
        if self.playing:
            self.jobs += self.drummer.plan(self.engine.bar, self.pattern)
        return f"phrase {bars}: a fill in the last bar of every {bars} (kept with the slot)"

    def set_vary(self, amount: float) -> str:
        self.history.replace(replace(self.pattern, vary=round(amount, 2)))
        if not amount:
            return "vary off"
        return f"vary {amount:.2f}: the hats vary between fills (the groove is what is saved)"

    def take_jobs(self) -> list[DrumJob]:
        jobs, self.jobs = self.jobs, []
        return jobs

    def fill_state(self) -> str:
        """What the screen says of the fill: armed (being written), waiting, playing."""
        if self.engine.fill == "playing":
            return "fill ▶"
        if self.drummer.armed is not None:
            return "fill armed"
        if self.engine.fill == "waiting":
            return f"fill waits for bar {self.engine.fill_bar + 1}"
        return ""

    def undo(self) -> str:
        before = self.pattern
        if self.history.undo() is None:
            return "nothing to undo"
        self.history.replace(self._at_tempo(self.pattern))  # undo keeps the global tempo
        self._play_whole(before)
        return "undone"

    def redo(self) -> str:
        before = self.pattern
        if self.history.redo() is None:
            return "nothing to redo"
        self.history.replace(self._at_tempo(self.pattern))
        self._play_whole(before)
        return "redone"

    def _play_whole(self, before: Pattern) -> None:
        now = self.pattern
        self.send(SetPattern(now, at="now"))
        if now.tempo != before.tempo:
            self.send(SetTempo(now.tempo))
        if now.swing != before.swing:
            self.send(SetSwing(now.swing))

    # --- parameters ---------------------------------------------------------------

    def select(self, group: int) -> str:
        self.selected = group
        tracks = GROUPS[group - 1].tracks
        if self.cursor_track not in tracks:
            self.cursor_track = tracks[0]
        return f"group {group}: {GROUPS[group - 1].name}"

    def _choices(self, key: str) -> Sequence[str]:
        return {"genre": self.genres, "type": TYPES, "density": LEVEL_CHOICES,
                "intensity": LEVEL_CHOICES}[key]

    def set_params(
        self, group: int | None, params: Sequence[tuple[str, str]], every: bool = False
    ) -> str:
        """Set generation parameters. A named group gets every key; `every` sets all four
        groups; with neither, genre and type (lang.PATTERN_KEYS) go to the whole beat, so
        one beat keeps one genre, and density and intensity to the selected group."""
        everyone = tuple(g.number for g in GROUPS)
        pattern = self.pattern
        said: dict[tuple[int, ...], list[str]] = {}
        for key, value in params:
            source = self._group(group)  # next / prev count from this group's value
            if every or (group is None and key in lang.PATTERN_KEYS):
                targets = everyone
            else:
                targets = (source,)
            choices = self._choices(key)
            if value in ("next", "prev"):
                current = pattern.group_params(source)
                old = AUTO if key in current.auto else getattr(current, key)
                step = 1 if value == "next" else -1
                # from a value not in the list: next is the first, prev the last
                i = choices.index(old) if old in choices else (-1 if step > 0 else 0)
                value = choices[(i + step) % len(choices)]
            for g in targets:
                try:
                    current = pattern.group_params(g)
                    if key in AUTO_LEVELS:
                        new = current.with_level(key, value)
                    else:
                        new = replace(current, **{key: value})
                except PatternError as exc:
                    raise CommandError(f"set: {exc}") from None
                pattern = pattern.with_params(g, new)
            said.setdefault(targets, []).append(f"{key}={value}")
        self.history.replace(pattern)
        return "; ".join(
            ("all groups" if targets == everyone else f"group {targets[0]}") + ": " + " ".join(kv)
            for targets, kv in said.items()
        )

    def cycle(self, key: str, direction: int = 1) -> str:
        return self.set_params(None, [(key, "next" if direction > 0 else "prev")])

    def set_tempo(self, value: float, relative: bool = False) -> str:
        bpm = round(
            _clamp(self.pattern.tempo + value if relative else value, MIN_TEMPO, MAX_TEMPO), 2
        )
        own = self.pattern.own_tempo
        if not own:
            self.tempo = bpm
        self.history.replace(self.pattern.with_tempo(bpm))
        self.send(SetTempo(bpm))
        note = " (this slot's own)" if own else ""
        note += " (following the external clock)" if self.clock_mode == "follow" else (
            " (sent to the Link session)" if self.clock_mode == "link" else "")
        return f"tempo {bpm:g} BPM{note}"

    def slot_tempo(self, own: bool) -> str:
        """`bpm own`: this pattern keeps its tempo when saved and played; `bpm global`:
        it plays at the global tempo again."""
        pattern = self.pattern.with_own_tempo(own)
        self.history.replace(self._at_tempo(pattern))
        if self.pattern.tempo != pattern.tempo:
            self.send(SetTempo(self.pattern.tempo))
        if own:
            return f"this slot keeps its own tempo, {self.pattern.tempo:g} BPM (saved with it)"
        return f"this slot plays at the global tempo, {self.tempo:g} BPM"

    def set_swing(self, value: float, relative: bool = False) -> str:
        swing = round(
            _clamp(self.pattern.swing + value if relative else value, MIN_SWING, MAX_SWING), 1
        )
        self.history.replace(self.pattern.with_swing(swing))
        self.send(SetSwing(swing))
        return f"swing {swing:g}%"

    def set_amount(self, value: float, relative: bool = False) -> str:
        amount = _clamp(
            self.amount + value if relative else value, lang.MIN_AMOUNT, lang.MAX_AMOUNT
        )
        self.amount = round(amount, 2)
        return f"mutate amount {self.amount:.2f}"

    # --- mute, solo, transport, clock ------------------------------------------------

    def _flags(self, flags: set[int], track: int | None, on: bool | None, make, word: str) -> str:
        targets = [t.number for t in TRACKS] if track is None else [track]
        for t in targets:
            want = (t not in flags) if on is None else on
            if want != (t in flags):
                (flags.add if want else flags.discard)(t)
                self.send(make(t, want))
        if track is None:
            return f"{word}: {'all tracks' if on else 'none'}"
        name = TRACKS[track - 1].name
        return f"track {track} {name}: {word} {'on' if track in flags else 'off'}"

    def mute(self, track: int | None, on: bool | None = None) -> str:
        return self._flags(self.mutes, track, on, SetMute, "mute")

    def solo(self, track: int | None, on: bool | None = None) -> str:
        return self._flags(self.solos, track, on, SetSolo, "solo")

    def transport(self, action: str) -> str:
        if action == "toggle":
            action = "stop" if self.playing else "start"
        self.send(Transport(action))
        self.playing = action != "stop"
        return {"start": "playing", "stop": "stopped", "continue": "playing on"}[action]

    def set_clock(self, mode: str, port: str | None = None) -> str:
        if mode == "follow":
            port = port or self.clock_in
            self.send(SetClock("external", clock_in=port))
            self.clock_in = port
        elif mode == "link":  # `link master`: MIDI clock out on the session's timeline too
            self.send(SetClock("link", send_clock=port == "master"))
        else:
            self.send(SetClock("internal", send_clock=mode == "master"))
        self.clock_mode = mode
        if mode == "link" and port == "master":
            return "clock link, sending MIDI clock on the session's beats"
        where = f" {port}" if mode == "follow" and port else ""
        return f"clock {mode}{where}"

    def describe_outputs(self, list_outputs) -> str:
        """`:out` alone: what plays now, and the outputs there are (none without a MIDI
        system: `list_outputs` may raise)."""
        try:
            names = list(list_outputs())
        except Exception:  # noqa: BLE001 - no MIDI system: nothing to offer
            names = []
        found = ", ".join(names) if names else "none found (no MIDI system or device)"
        return f"playing to {self.engine.output}; outputs: {found}"

    def set_output(self, name: str) -> str:
        self.send(SetOutput(None if name.lower() == "none" else name))
        return f"output: {name}"

    # --- generation ------------------------------------------------------------------

    def gen_request(self, cmd: lang.Gen | lang.Mutate) -> GenRequest:
        """Set the lane parameters a command names and describe the job."""
        self._next_request += 1
        self.latest_request = self._next_request
        if isinstance(cmd, lang.Mutate):
            g = self._group(cmd.group)
            # an amount typed with the command is for this mutation only (`amount` sets it)
            amount = cmd.amount if cmd.amount is not None else self.amount
            kind, groups = "mutate", (g,)
            seed = cmd.seed if cmd.seed is not None else self.rng.randrange(2**32)
            return self._mark(
                GenRequest(self._next_request, kind, groups, self.pattern, seed, None, amount)
            )
        groups = tuple(g.number for g in GROUPS) if cmd.all else (self._group(cmd.group),)
        if cmd.params:  # as `set`: genre and type for the whole beat unless a group is named
            self.set_params(cmd.group, cmd.params, cmd.all)
        seed = cmd.seed if cmd.seed is not None else self.rng.randrange(2**32)
        kind = "all" if cmd.all else "group"
        return self._mark(
            GenRequest(self._next_request, kind, groups, self.pattern, seed, cmd.temperature)
        )

    def _mark(self, request: GenRequest) -> GenRequest:
        for g, state in self.lane_state.items():
            if state == GENERATING:
                self.lane_state[g] = IDLE
        for g in request.groups:
            self.lane_state[g] = GENERATING
        return request

    def generation_failed(self, request: GenRequest) -> None:
        if request.id == self.latest_request:
            for g in request.groups:
                self.lane_state[g] = IDLE

    def apply_generated(self, request: GenRequest, result: Pattern, model_name: str = "") -> bool:
        """Put a finished job's groups in place; False when a newer request replaced it."""
        if request.id != self.latest_request:
            return False
        pattern = self.pattern
        for g in request.groups:
            current, drawn = pattern.group_params(g), result.group_params(g)
            # the levels the model drew where they are (still) auto; the rest as set now
            levels = {name: getattr(drawn, name) for name in current.auto & drawn.auto}
            params = replace(current, seed=request.seed, model=model_name, **levels)
            pattern = pattern.with_group(g, result.group_events(g), params)
        self.history.commit(pattern)
        at = "bar" if self.playing else "now"
        for g in request.groups:
            self.send(SwapGroup(g, pattern.group_events(g), at=at))
            self.lane_state[g] = WAITING if at == "bar" else IDLE
        return True

    # --- engine reports --------------------------------------------------------------

    def on_state(self, state: EngineState) -> list[str]:
        """Take the engine's newest state; lines to tell the user (chain moves, swaps)."""
        old_bar, old_late = self.engine.bar, self.engine.once_late
        self.engine = state
        self.playing = state.playing
        said = []
        if state.once_late > old_late:
            said.append("a fill was not ready before its bar: it plays a bar later")
        if state.pending:
            self._saw_pending = True
        elif self._saw_pending:
            # what waited went in without a PatternSwapped (Start installs it at once)
            self._saw_pending = False
            if self.chain is not None:
                self.chain.swapped(state.bar)
            line = self._swapped()
            if line:
                said.append(line)
        if self.chain is not None and state.playing and state.bar != old_bar:
            slot = self.chain.on_bar(state.bar)
            if slot is not None:
                said.append(f"chain: {self._queue_slot(slot)}")
        if not state.playing and not state.pending and self.queued is None:
            for g, lane in self.lane_state.items():  # stopped: nothing waits for a bar
                if lane == WAITING:
                    self.lane_state[g] = IDLE
        self.jobs += self.drummer.on_state(state, self.pattern)
        return said

    def on_swapped(self, bar: int) -> str | None:
        self._saw_pending = False
        if self.chain is not None:
            self.chain.swapped(bar)
        return self._swapped()

    def _swapped(self) -> str | None:
        for g, state in self.lane_state.items():
            if state == WAITING:
                self.lane_state[g] = IDLE
        if self.queued is None:
            return None
        slot, pattern = self.queued
        self.queued = None
        self.history.commit(pattern)
        self.slot = slot
        return f"playing {slot}"

    # --- slots and the bank -------------------------------------------------------------

    def move_slot(self, step: int) -> str:
        names = SLOT_NAMES
        self.slot = names[(names.index(self.slot) + step) % len(names)]
        filled = self.bank is not None and self.bank.get(self.slot) is not None
        return f"slot {self.slot}{'' if filled else ' (empty)'}"

    def select_slot(self, slot: str) -> str:
        self.slot = slot
        return self.move_slot(0)

    def render_source(self, slot: str | None) -> tuple[Pattern, frozenset, frozenset]:
        """What `render` renders: a stored slot, or the pattern as it plays (mutes, solos)."""
        if slot:
            return self._stored(slot, "render"), frozenset(), frozenset()
        return self.pattern, frozenset(self.mutes), frozenset(self.solos)

    def _stored(self, slot: str, cmd: str) -> Pattern:
        if self.bank is None:
            raise CommandError(f"{cmd}: no bank is open")
        pattern = self.bank.get(slot)
        if pattern is None:
            raise CommandError(f"{cmd}: slot {slot} is empty")
        return pattern

    def _check_writable(self, cmd: str) -> None:
        if self.bank is None or self._save_bank is None:
            raise CommandError(f"{cmd}: no bank is open")
        if not self.bank_writable:
            raise CommandError(
                f"{cmd}: {self.bank_path} is open read-only (locked by another autobeat)"
            )

    def slot_name(self, slot: str) -> str:
        """The name a pattern is saved under: one the user gave stays; else the genre and
        the first number no other slot of that genre has ("Funk 2")."""
        name = self.pattern.name
        word, _, number = name.rpartition(" ")
        genres = {g.lower() for g in (*self.genres, *lang.DEFAULT_GENRES)}
        if name and not (number.isdigit() and word.lower() in genres):
            return name
        counts = Counter(p.genre for p in self.pattern.params)
        genre = max(counts, key=lambda g: (counts[g], g == self.pattern.params[0].genre))
        taken = {p.name for s, p in self.bank.slots.items() if s != slot}
        n = next(n for n in count(1) if f"{genre.title()} {n}" not in taken)
        return f"{genre.title()} {n}"

    # --- unsaved work ----------------------------------------------------------------

    def unsaved(self) -> bool:
        """Whether the pattern on screen differs from what its slot holds."""
        stored = self.bank.slots.get(self.slot) if self.bank is not None else None
        return self.pattern != (stored if stored is not None else Pattern())

    @property
    def recovery_path(self) -> Path | None:
        """Where unsaved work is kept at quit: ``NAME.recovery.json`` beside the bank."""
        if self.bank_path is None:
            return None
        return self.bank_path.with_name(self.bank_path.name.removesuffix(".json")
                                        + ".recovery.json")

    def keep_recovery(self) -> Path | None:
        """Write the pattern on screen, in its slot, to the recovery file (a bank file,
        through the atomic writer); None when there is nothing unsaved or no place."""
        path = self.recovery_path
        if path is None or not self.unsaved():
            return None
        from patterns.bank import Bank
        from patterns.bank_file import encode_bank
        from patterns.files import write_atomic

        bank = Bank({self.slot: self.pattern}, name=f"unsaved work in {self.bank_path.name}")
        write_atomic(path, encode_bank(bank), what="recovery file")  # raises FileError
        return path

    def take_recovery(self) -> str | None:
        """At start: put the unsaved pattern of the last session back on screen (it stays
        in the recovery file until it is saved); a line saying so, or None."""
        path = self.recovery_path
        if path is None or not path.exists():
            return None
        from patterns.bank import BankError, load_bank

        try:
            kept = load_bank(path).bank
        except BankError as exc:
            return f"unsaved work of the last session could not be read: {exc}"
        if not kept.slots:
            return None
        slot, pattern = next(iter(kept.slots.items()))
        self.slot = slot
        self.history.commit(pattern)
        return (f"the unsaved pattern of {slot} from the last session is back on screen "
                f"(w saves it; it is kept in {path.name} until then)")

    def drop_recovery(self) -> None:
        path = self.recovery_path
        if path is not None:
            try:
                path.unlink()
            except OSError:
                pass

    def save(self, slot: str | None = None) -> str:
        slot = slot or self.slot
        self._check_writable("save")
        named = self.pattern.with_name(self.slot_name(slot))
        if named != self.pattern:
            self.history.replace(named)
        bank = self.bank.with_slot(slot, self.pattern).with_tempo(self.tempo)
        saved = self._save_bank(bank, self.bank_path)  # raises BankError: the app reports it
        self.bank, notes = _merged(saved, bank)
        self.slot = slot
        self.drop_recovery()
        return f"saved {slot} to {self.bank_path}" + "".join(f"; {n}" for n in notes)

    def load(self, slot: str | None = None) -> str:
        slot = slot or self.slot
        pattern = self._at_tempo(self._stored(slot, "load"))
        before = self.pattern
        self.history.commit(pattern)
        self.slot = slot
        self.queued = None
        self._play_whole(before)
        return f"loaded {slot}"

    def queue(self, slot: str | None = None) -> str:
        self.chain = None
        return self._queue_slot(slot or self.slot)

    def _queue_slot(self, slot: str) -> str:
        pattern = self._at_tempo(self._stored(slot, "queue"))
        if not self.playing:
            self.queued = None
            if self.chain is not None:
                self.chain.swapped(self.engine.bar)
            before = self.pattern
            self.history.commit(pattern)
            self.slot = slot
            self._play_whole(before)
            return f"loaded {slot}"
        self.queued = (slot, pattern)
        self.send(SetPattern(pattern, at="bar"))
        if pattern.tempo != self.pattern.tempo:
            self.send(SetTempo(pattern.tempo))
        return f"{slot} queued for the next bar"

    def save_chain(self, name: str, entries: Sequence[tuple[str, int]]) -> str:
        """Keep a chain in the bank file (replacing one of that name)."""
        self._check_writable("chain")
        for slot, _ in entries:
            self._stored(slot, "chain")
        try:
            bank = self.bank.with_chain(BankChain(name, tuple(entries)))
        except BankError as exc:
            raise CommandError(f"chain: {exc}") from None
        saved = self._save_bank(bank, self.bank_path)  # raises BankError: the app reports it
        self.bank, notes = _merged(saved, bank)
        return f"saved chain {name!r}" + "".join(f"; {n}" for n in notes)

    def set_chain(self, entries: Sequence[tuple[str, int]], name: str | None = None) -> str:
        if name is not None:
            if self.bank is None:
                raise CommandError("chain: no bank is open")
            try:
                entries = self.bank.chain(name).entries
            except Exception as exc:  # BankError: no such chain
                raise CommandError(f"chain: {exc}") from None
            if not entries:
                raise CommandError(f"chain: {name!r} has no slots")
        if not entries:
            self.chain = None
            return "chain off"
        for slot, _ in entries:
            self._stored(slot, "chain")
        self.chain = ChainPlayer(entries)
        said = self._queue_slot(self.chain.first())
        return f"chain {self.chain.describe()} ({said})"

    def export(self, path: str, slot: str | None = None, loops: int = 1) -> str:
        pattern = self._at_tempo(self._stored(slot, "export")) if slot else self.pattern
        if self._write_midi is None:
            raise CommandError("export: MIDI export is not available")
        target = Path(path).expanduser()
        self._write_midi(target, played_out(pattern, loops, self.trig_seed), self.kit)
        times = f", {loops} loops" if loops > 1 else ""
        return f"exported {slot or 'the pattern'} to {target}{times}"

    # --- the cursor ---------------------------------------------------------------------

    def move_cursor(self, tracks: int = 0, steps: int = 0) -> None:
        self.cursor_track = (self.cursor_track - 1 + tracks) % len(TRACKS) + 1
        self.cursor_step = (self.cursor_step + steps) % STEPS
        self.selected = TRACKS[self.cursor_track - 1].group

    # --- commands ----------------------------------------------------------------------

    def run(self, cmd: lang.Command) -> str | None:
        """Carry out a command the session owns; None for the app's own (gen, help, ...)."""
        match cmd:
            case lang.SetParams(group, params, every):
                return self.set_params(group, params, every)
            case lang.Bpm(value, relative):
                return self.set_tempo(value, relative)
            case lang.SlotTempo(own):
                return self.slot_tempo(own)
            case lang.Swing(value, relative):
                return self.set_swing(value, relative)
            case lang.Amount(value, relative):
                return self.set_amount(value, relative)
            case lang.Mute(track, on):
                return self.mute(track, on)
            case lang.Solo(track, on):
                return self.solo(track, on)
            case lang.Play(action):
                return self.transport(action)
            case lang.Undo():
                return self.undo()
            case lang.Redo():
                return self.redo()
            case lang.Select(group):
                return self.select(group)
            case lang.Slot(slot, move):
                return self.select_slot(slot) if slot else self.move_slot(move)
            case lang.Save(slot):
                return self.save(slot)
            case lang.Load(slot):
                return self.load(slot)
            case lang.Queue(slot):
                return self.queue(slot)
            case lang.Chain(entries, name, save_as):
                said = self.save_chain(save_as, entries) + ": " if save_as else ""
                return said + self.set_chain(entries, name)
            case lang.Export(path, slot, loops):
                return self.export(path, slot, loops)
            case lang.Clock(mode, port) if mode is not None:
                return self.set_clock(mode, port)
            case lang.Out(name) if name is not None:
                return self.set_output(name)
            case lang.StepLiteral(track, events, show=False, conditions=conds):
                return self.literal(track, events, conds)
            case lang.StepLiteral(track, _, show=True):
                p = self.pattern
                return f"{TRACKS[track - 1].name} {format_track(p.events, track, p.conditions)}"
            case lang.Cond():
                return self.condition(cmd)
            case lang.Crash(on):
                return self.set_crash(on)
            case lang.Phrase(bars):
                return self.set_phrase(bars)
            case lang.Vary(amount):
                return self.set_vary(amount)
            case lang.Hit(track, step, velocity):
                return self.set_hit(track, step, velocity)
            case lang.Clear(track, step, group):
                return self.clear(track, step, group)
            case lang.Velocity(track, step, value, relative):
                return self.change_velocity(track, step, value, relative)
        return None
