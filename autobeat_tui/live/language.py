"""The live-coding command language: one line in, one command value out.

``parse(line, genres)`` returns a frozen command (``Gen``, ``Bpm``, ``StepLiteral``,
... from autobeat_tui/live/commands.py) or raises ``CommandError`` with a one-line
message that names the command and what was allowed; tab completion is in
autobeat_tui/live/completion.py. Nothing here
touches the app: the app decides what a command does (autobeat_tui/live/session.py
and autobeat_tui/app.py).

Counting is as musicians count: groups 1..4, tracks 1..12, steps 1..32.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence

from autobeat_tui.live.commands import (
    Amount,
    Bpm,
    Chain,
    Clear,
    Clock,
    Command,
    Cond,
    Crash,
    Export,
    Fill,
    Gen,
    Help,
    Hit,
    Latency,
    Load,
    Messages,
    Mutate,
    Mute,
    Out,
    Phrase,
    Play,
    Queue,
    Quit,
    Redo,
    Render,
    Save,
    Select,
    SetParams,
    Slot,
    SlotTempo,
    Solo,
    StepLiteral,
    Swing,
    Undo,
    Vary,
    Velocity,
)
from autobeat_tui.live.steps import (
    StepLiteralError,
    parse_track_conditions,
    parse_track_literal,
)
from engine.player import MAX_LATENCY_MS
from models.limits import MAX_SEED, MAX_TEMPERATURE, MIN_TEMPERATURE
from patterns.bank import BankError, chain_entry, check_slot, looks_like_chain_entry
from patterns.conditions import FORMS, ConditionError, parse_condition
from patterns.grid import GROUPS, STEPS, track_by_name
from patterns.pattern import (
    LEVEL_CHOICES,
    MAX_SWING,
    MAX_TEMPO,
    MIN_SWING,
    MIN_TEMPO,
    PHRASES,
    TYPES,
)

# The Groove MIDI Dataset's styles: the genres shown before a model has loaded.
DEFAULT_GENRES = (
    "afrobeat",
    "afrocuban",
    "blues",
    "country",
    "dance",
    "funk",
    "gospel",
    "highlife",
    "hiphop",
    "jazz",
    "latin",
    "middleeastern",
    "neworleans",
    "pop",
    "punk",
    "reggae",
    "rock",
    "soul",
)
PARAM_KEYS = ("genre", "type", "density", "intensity")
# a beat has one genre and one type: without a group they set every group
PATTERN_KEYS = ("genre", "type")
MIN_AMOUNT, MAX_AMOUNT = 0.05, 1.0  # the mutate amount a command may set
CLOCK_MODES = ("internal", "master", "follow", "link")
MAX_EXPORT_LOOPS = 256


class CommandError(ValueError):
    """A line that is not a command: one line naming the command and what was wrong."""


# --- argument readers ---------------------------------------------------------------

GROUP_NAMES = {g.name: g.number for g in GROUPS}


def _group(word: str, cmd: str) -> int:
    key = word.lower()
    if key in GROUP_NAMES:
        return GROUP_NAMES[key]
    if key.isdecimal() and 1 <= int(key) <= len(GROUPS):
        return int(key)
    names = ", ".join(GROUP_NAMES)
    raise CommandError(f"{cmd}: group must be 1..{len(GROUPS)} or one of {names}, got {word!r}")


def _is_group(word: str) -> bool:
    return word.lower() in GROUP_NAMES or (word.isdecimal() and 1 <= int(word) <= len(GROUPS))


def _track(word: str, cmd: str) -> int:
    try:
        return track_by_name(word)
    except ValueError as exc:
        raise CommandError(f"{cmd}: {exc}") from None


def _step(word: str, cmd: str) -> int:
    if not word.isdecimal() or not 1 <= int(word) <= STEPS:
        raise CommandError(f"{cmd}: step must be in 1..{STEPS}, got {word!r}")
    return int(word) - 1


def _number(word: str, cmd: str, what: str, low: float, high: float) -> float:
    try:
        value = float(word)
    except ValueError:
        raise CommandError(
            f"{cmd}: {what} must be a number in {low:g}..{high:g}, got {word!r}"
        ) from None
    if not low <= value <= high:
        raise CommandError(f"{cmd}: {what} must be in {low:g}..{high:g}, got {word}")
    return value


def _int(word: str, cmd: str, what: str, low: int, high: int) -> int:
    try:
        value = int(word)
    except ValueError:
        raise CommandError(
            f"{cmd}: {what} must be an integer in {low}..{high}, got {word!r}"
        ) from None
    if not low <= value <= high:
        raise CommandError(f"{cmd}: {what} must be in {low}..{high}, got {value}")
    return value


def _slot(word: str, cmd: str) -> str:
    try:
        return check_slot(word.upper())
    except BankError as exc:
        raise CommandError(f"{cmd}: {exc}") from None


def _on_off(word: str, cmd: str) -> bool:
    key = word.lower()
    if key in ("on", "1", "yes"):
        return True
    if key in ("off", "0", "no"):
        return False
    raise CommandError(f"{cmd}: expected on or off, got {word!r}")


def _no_more(args: Sequence[str], cmd: str, usage_of: str | None = None) -> None:
    if args:
        raise CommandError(f"{cmd}: unexpected {args[0]!r}; usage: {USAGE[usage_of or cmd]}")


def _key_values(
    args: Sequence[str], cmd: str, genres: Sequence[str], allowed: Sequence[str], cycle: bool
) -> dict[str, str]:
    out: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.lower()
        if not sep or not value:
            raise CommandError(
                f"{cmd}: expected key=value, got {arg!r}; keys: {', '.join(allowed)}"
            )
        if key not in allowed:
            raise CommandError(f"{cmd}: unknown key {key!r}; keys: {', '.join(allowed)}")
        value = value.lower() if key != "genre" else value
        if cycle and value in ("next", "prev"):
            out[key] = value
            continue
        choices: Sequence[str] | None = {
            "genre": genres,
            "type": TYPES,
            "density": LEVEL_CHOICES,
            "intensity": LEVEL_CHOICES,
        }.get(key)
        if choices is not None and value not in choices:
            raise CommandError(f"{cmd}: {key} must be one of {', '.join(choices)}, got {value!r}")
        out[key] = value
    return out


def _relative(word: str, cmd: str, what: str, low: float, high: float) -> tuple[float, bool]:
    if word[:1] in "+-" and len(word) > 1:
        span = high - low
        return _number(word, cmd, f"a change of {what}", -span, span), True
    return _number(word, cmd, what, low, high), False


# --- one parser per command ------------------------------------------------------------


def _p_gen(args: list[str], genres: Sequence[str]) -> Gen:
    group: int | None = None
    every = False
    if args and "=" not in args[0]:
        if args[0].lower() == "all":
            every = True
        else:
            group = _group(args[0], "gen")
        args = args[1:]
    kv = _key_values(args, "gen", genres, (*PARAM_KEYS, "seed", "temp"), cycle=False)
    seed = _int(kv.pop("seed"), "gen", "seed", 0, MAX_SEED) if "seed" in kv else None
    temp = None
    if "temp" in kv:
        temp = _number(kv.pop("temp"), "gen", "temp", MIN_TEMPERATURE, MAX_TEMPERATURE)
    return Gen(group, every, tuple(kv.items()), seed, temp)


def _p_mutate(args: list[str], genres: Sequence[str]) -> Mutate:
    group = amount = seed = None
    rest = []
    for arg in args:
        if arg.lower().startswith("seed="):
            seed = _int(arg[5:], "mutate", "seed", 0, MAX_SEED)
        elif group is None and amount is None and _is_group(arg):
            group = _group(arg, "mutate")
        elif amount is None and "=" not in arg:
            amount = _number(arg, "mutate", "amount", MIN_AMOUNT, MAX_AMOUNT)
        else:
            rest.append(arg)
    _no_more(rest, "mutate")
    return Mutate(group, amount, seed)


def _p_set(args: list[str], genres: Sequence[str]) -> SetParams:
    group = None
    every = False
    if args and "=" not in args[0]:
        if args[0].lower() == "all":
            every = True
        else:
            group = _group(args[0], "set")
        args = args[1:]
    if not args:
        raise CommandError(f"set: nothing to set; usage: {USAGE['set']}")
    params = tuple(_key_values(args, "set", genres, PARAM_KEYS, cycle=True).items())
    return SetParams(group, params, every)


def _one(args: list[str], cmd: str) -> str:
    if not args:
        raise CommandError(f"{cmd}: missing argument; usage: {USAGE[cmd]}")
    _no_more(args[1:], cmd)
    return args[0]


def _p_bpm(args: list[str], genres: Sequence[str]) -> Bpm | SlotTempo:
    word = _one(args, "bpm")
    if word.lower() in ("own", "global"):
        return SlotTempo(word.lower() == "own")
    return Bpm(*_relative(word, "bpm", "tempo", MIN_TEMPO, MAX_TEMPO))


def _p_swing(args: list[str], genres: Sequence[str]) -> Swing:
    return Swing(*_relative(_one(args, "swing"), "swing", "swing", MIN_SWING, MAX_SWING))


def _p_amount(args: list[str], genres: Sequence[str]) -> Amount:
    return Amount(*_relative(_one(args, "amount"), "amount", "amount", MIN_AMOUNT, MAX_AMOUNT))


def _mute_solo(args: list[str], cmd: str) -> tuple[int | None, bool | None]:
    if not args:
        raise CommandError(f"{cmd}: missing track; usage: {USAGE[cmd]}")
    track = None if args[0].lower() == "all" else _track(args[0], cmd)
    on = _on_off(args[1], cmd) if len(args) > 1 else None
    _no_more(args[2:], cmd)
    if track is None and on is None:
        on = False  # "mute all" alone would be a toggle of everything: take it as "clear"
    return track, on


def _p_mute(args: list[str], genres: Sequence[str]) -> Mute:
    return Mute(*_mute_solo(args, "mute"))


def _p_solo(args: list[str], genres: Sequence[str]) -> Solo:
    return Solo(*_mute_solo(args, "solo"))


def _plain(
    factory: Callable[[], Command], cmd: str
) -> Callable[[list[str], Sequence[str]], Command]:
    def parse(args: list[str], genres: Sequence[str]) -> Command:
        _no_more(args, cmd)
        return factory()

    return parse


def _p_group(args: list[str], genres: Sequence[str]) -> Select:
    return Select(_group(_one(args, "group"), "group"))


def _p_slot(args: list[str], genres: Sequence[str]) -> Slot:
    word = _one(args, "slot")
    if word.lower() in ("next", "+"):
        return Slot(move=1)
    if word.lower() in ("prev", "-"):
        return Slot(move=-1)
    return Slot(_slot(word, "slot"))


def _optional_slot(args: list[str], cmd: str) -> str | None:
    _no_more(args[1:], cmd)
    return _slot(args[0], cmd) if args else None


def _p_save(args: list[str], genres: Sequence[str]) -> Save:
    return Save(_optional_slot(args, "save"))


def _p_load(args: list[str], genres: Sequence[str]) -> Load:
    return Load(_optional_slot(args, "load"))


def _p_queue(args: list[str], genres: Sequence[str]) -> Queue:
    return Queue(_optional_slot(args, "queue"))


def _p_chain(args: list[str], genres: Sequence[str]) -> Chain:
    if not args:
        raise CommandError(f"chain: missing slots; usage: {USAGE['chain']}")
    if len(args) == 1 and args[0].lower() == "off":
        return Chain(())
    if len(args) == 1 and not looks_like_chain_entry(args[0]):
        return Chain((), name=args[0])
    save_as = None
    if "as" in (a.lower() for a in args):
        at = [a.lower() for a in args].index("as")
        if at == 0 or len(args) != at + 2:
            raise CommandError(f"chain: 'as' takes one name after the slots; usage: "
                               f"{USAGE['chain']}")
        args, save_as = args[:at], args[at + 1]
        if _looks_like_slot(save_as):
            raise CommandError(f"chain: a chain name must not look like a slot, got {save_as!r}")
    try:
        entries = tuple(chain_entry(arg) for arg in args)
    except BankError as exc:
        raise CommandError(f"chain: {exc}") from None
    return Chain(entries, save_as=save_as)


def _looks_like_slot(word: str) -> bool:
    return len(word) in (2, 3) and word[0].upper() in "ABCDEFGH" and word[1:].isdecimal()


def _slot_and_file(args: list[str], cmd: str, suffixes: tuple[str, ...]) -> tuple[str, str | None]:
    """`[SLOT] FILE` of export and render: the file, with one of its suffixes, and the slot."""
    if not args:
        raise CommandError(f"{cmd}: missing file; usage: {USAGE[cmd]}")
    slot = None
    if len(args) >= 2:
        slot = _slot(args[0], cmd)
        args = args[1:]
    path = _one(args, cmd)
    if not path.lower().endswith(suffixes):
        raise CommandError(f"{cmd}: the file must end in {' or '.join(suffixes)}, got {path!r}")
    return path, slot


def _p_export(args: list[str], genres: Sequence[str]) -> Export:
    loops = 1
    rest = []
    for arg in args:
        if arg.lower().startswith("loops="):
            loops = _int(arg[6:], "export", "loops", 1, MAX_EXPORT_LOOPS)
        else:
            rest.append(arg)
    return Export(*_slot_and_file(rest, "export", (".mid", ".midi")), loops)


RENDER_MAX_BARS = 1024


def _p_render(args: list[str], genres: Sequence[str]) -> Render:
    bars = 8
    rest = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.lower() == "bars":
            bars = _int(value, "render", "bars", 1, RENDER_MAX_BARS)
        else:
            rest.append(arg)
    path, slot = _slot_and_file(rest, "render", (".wav",))
    return Render(path, slot, bars)


def _p_clock(args: list[str], genres: Sequence[str]) -> Clock:
    if not args:
        return Clock(None)  # show the clock
    mode = args[0].lower()
    if mode not in CLOCK_MODES:
        raise CommandError(f"clock: mode must be one of {', '.join(CLOCK_MODES)}, got {args[0]!r}")
    port = " ".join(args[1:]) or None
    if mode == "link" and port is not None and port.lower() == "master":
        return Clock(mode, "master")  # Link, and MIDI clock out on its timeline
    if port is not None and mode != "follow":
        raise CommandError(f"clock: only follow takes a port (and link takes master); "
                           f"usage: {USAGE['clock']}")
    return Clock(mode, port)


def _p_out(args: list[str], genres: Sequence[str]) -> Out:
    return Out(" ".join(args) or None)


def _p_latency(args: list[str], genres: Sequence[str]) -> Latency:
    if not args:
        return Latency()
    try:
        ms = float(args[-1])
    except ValueError:
        raise CommandError(f"latency: the last word must be milliseconds, got {args[-1]!r}; "
                           f"usage: {USAGE['latency']}") from None
    if not -MAX_LATENCY_MS <= ms <= MAX_LATENCY_MS:
        raise CommandError(f"latency: must be in -{MAX_LATENCY_MS:g}..{MAX_LATENCY_MS:g} ms, "
                           f"got {args[-1]}")
    return Latency(" ".join(args[:-1]) or None, ms)


def _p_hit(args: list[str], genres: Sequence[str]) -> Hit:
    if len(args) < 2:
        raise CommandError(f"hit: missing track or step; usage: {USAGE['hit']}")
    velocity = _int(args[2], "hit", "velocity", 1, 127) if len(args) > 2 else None
    _no_more(args[3:], "hit")
    return Hit(_track(args[0], "hit"), _step(args[1], "hit"), velocity)


def _p_clear(args: list[str], genres: Sequence[str]) -> Clear:
    if not args:
        raise CommandError(f"clear: missing track or group; usage: {USAGE['clear']}")
    if args[0].lower() in GROUP_NAMES or args[0].lower() == "group":
        word = args[1] if args[0].lower() == "group" and len(args) > 1 else args[0]
        _no_more(args[2 if args[0].lower() == "group" else 1 :], "clear")
        return Clear(group=_group(word, "clear"))
    track = _track(args[0], "clear")
    step = _step(args[1], "clear") if len(args) > 1 else None
    _no_more(args[2:], "clear")
    return Clear(track, step)


def _p_vel(args: list[str], genres: Sequence[str]) -> Velocity:
    if len(args) < 3:
        raise CommandError(f"vel: missing argument; usage: {USAGE['vel']}")
    _no_more(args[3:], "vel")
    track, step = _track(args[0], "vel"), _step(args[1], "vel")
    if args[2][:1] in "+-":
        return Velocity(track, step, _int(args[2], "vel", "a change of velocity", -126, 126), True)
    return Velocity(track, step, _int(args[2], "vel", "velocity", 1, 127))


def _p_cond(args: list[str], genres: Sequence[str]) -> Cond:
    if not args:
        return Cond()
    if args[0].lower() == "seed":
        return Cond(seed=_int(_one(args[1:], "cond"), "cond", "seed", 0, 2**32 - 1))
    if len(args) < 3:
        raise CommandError(f"cond: missing argument; usage: {USAGE['cond']}")
    track, step = _track(args[0], "cond"), _step(args[1], "cond")
    word = " ".join(args[2:]).lower()
    if word in ("off", "none", "clear"):
        return Cond(track, step, None)
    if word in ("next", "prev"):
        return Cond(track, step, None, 1 if word == "next" else -1)
    try:
        return Cond(track, step, parse_condition(word))
    except ConditionError:
        raise CommandError(f"cond: {' '.join(args[2:])!r} is not a condition; accepted: "
                           f"{FORMS}, off") from None


def _p_crash(args: list[str], genres: Sequence[str]) -> Crash | StepLiteral:
    """`crash on|off` (after a fill); anything else is the crash track's step literal."""
    if len(args) == 1 and args[0].lower() in ("on", "off"):
        return Crash(args[0].lower() == "on")
    return _literal("crash", track_by_name("crash"), args)


def _p_phrase(args: list[str], genres: Sequence[str]) -> Phrase:
    word = _one(args, "phrase").lower()
    if word == "off":
        return Phrase(0)
    if not word.isdigit() or int(word) not in PHRASES[1:]:
        raise CommandError(f"phrase: bars must be one of 4, 8, 16 or off, got {args[0]!r}")
    return Phrase(int(word))


def _p_vary(args: list[str], genres: Sequence[str]) -> Vary:
    word = _one(args, "vary").lower()
    if word == "off":
        return Vary(0.0)
    return Vary(_number(word, "vary", "amount", MIN_AMOUNT, MAX_AMOUNT))


def _p_help(args: list[str], genres: Sequence[str]) -> Help:
    topic = _optional_word(args, "help")
    if topic is not None and topic not in USAGE:
        raise CommandError(f"help: unknown command {topic!r}; commands: {', '.join(USAGE)}")
    return Help(topic)


def _optional_word(args: list[str], cmd: str) -> str | None:
    _no_more(args[1:], cmd)
    return args[0].lower() if args else None


def _p_play(args: list[str], genres: Sequence[str]) -> Play:
    _no_more(args, "play")
    return Play("start")


PARSERS: dict[str, Callable[[list[str], Sequence[str]], Command]] = {
    "gen": _p_gen,
    "mutate": _p_mutate,
    "set": _p_set,
    "bpm": _p_bpm,
    "swing": _p_swing,
    "mute": _p_mute,
    "solo": _p_solo,
    "play": _p_play,
    "stop": _plain(lambda: Play("stop"), "stop"),
    "continue": _plain(lambda: Play("continue"), "continue"),
    "undo": _plain(Undo, "undo"),
    "redo": _plain(Redo, "redo"),
    "group": _p_group,
    "slot": _p_slot,
    "save": _p_save,
    "load": _p_load,
    "queue": _p_queue,
    "chain": _p_chain,
    "export": _p_export,
    "render": _p_render,
    "clock": _p_clock,
    "out": _p_out,
    "latency": _p_latency,
    "hit": _p_hit,
    "clear": _p_clear,
    "vel": _p_vel,
    "amount": _p_amount,
    "cond": _p_cond,
    "fill": _plain(Fill, "fill"),
    "crash": _p_crash,
    "phrase": _p_phrase,
    "vary": _p_vary,
    "help": _p_help,
    "messages": _plain(Messages, "messages"),
    "quit": _plain(Quit, "quit"),
}

USAGE: dict[str, str] = {
    "gen": "gen [GROUP|all] [genre=G] [type=beat|fill] [density=auto|low|mid|high] "
           "[intensity=auto|low|mid|high] [seed=N] [temp=T]",
    "mutate": "mutate [GROUP] [AMOUNT 0.05..1] [seed=N]",
    "set": "set [GROUP|all] genre=G|next|prev type=.. density=.. intensity=.. "
    "(genre and type: the whole beat unless a GROUP is named)",
    "bpm": "bpm 20..300 | bpm +N | bpm -N | bpm own (this slot keeps its tempo) | bpm global",
    "swing": "swing 50..75 | swing +N | swing -N",
    "mute": "mute TRACK|all [on|off] (TRACK: 1..12 or a name, mute 5 = mute chh)",
    "solo": "solo TRACK|all [on|off] (TRACK: 1..12 or a name, solo 1 = solo kick)",
    "play": "play (from the top)",
    "stop": "stop",
    "continue": "continue (from where it stopped)",
    "undo": "undo",
    "redo": "redo",
    "group": "group 1..4 (select a lane)",
    "slot": "slot A01..H16 | slot next | slot prev",
    "save": "save [SLOT]",
    "load": "load [SLOT] (now)",
    "queue": "queue [SLOT] (at the next bar)",
    "chain": "chain SLOT[*TIMES] ... [as NAME] | chain NAME (kept in the bank) | chain off",
    "export": "export [SLOT] FILE.mid [loops=N] (conditional trigs played out loop by loop)",
    "render": "render [SLOT] FILE.wav [bars=N] (through the built-in kit or --kit-dir)",
    "clock": "clock internal | master | follow [PORT] | link [master] (Ableton Link; master: "
             "MIDI clock out on its beats too) | clock (show source, tempo, jitter, lock, "
             "peers, drift)",
    "out": "out [PORT|audio|audio+PORT|none] (no port: list them)",
    "latency": "latency [PORT] -100..100 (ms earlier for PORT or the output playing; "
               "no value: list them)",
    "hit": "hit TRACK STEP(1..32) [VELOCITY]",
    "clear": "clear TRACK [STEP] | clear GROUP",
    "vel": "vel TRACK STEP VELOCITY|+N|-N",
    "amount": "amount 0.05..1 | amount +N | amount -N (for mutate)",
    "cond": "cond TRACK STEP 40%|1:2|fill|!fill|pre|!pre|off|next | cond seed N | cond (list)",
    "fill": "fill (the model writes a fill; it plays once in the next bar)",
    "crash": "crash on|off (a crash on the 1 after a fill) | crash STEPS (the track)",
    "phrase": "phrase 4|8|16|off (a fill in the last bar of every phrase)",
    "vary": "vary 0.05..1|off (the hats varied lightly between fills; never saved)",
    "help": "help [COMMAND]",
    "messages": "messages (every message so far, whole)",
    "quit": "quit",
}
USAGE_LITERAL = (
    "TRACK STEPS (kick x...x...x...x... : . rest, x hit, X accent, o soft, g ghost, 1..9; "
    "x[1:2] a hit with a condition)"
)

ALIASES = {
    "g": "gen",
    "m": "mutate",
    "tempo": "bpm",
    "q": "quit",
    "exit": "quit",
    "?": "help",
    "start": "play",
    "sel": "group",
    "write": "save",
    "w": "save",
    "recall": "load",
}


def _literal(head: str, track: int, args: list[str]) -> StepLiteral:
    if not args:
        return StepLiteral(track, show=True)
    try:
        text = " ".join(args)
        return StepLiteral(track, parse_track_literal(track, text),
                           conditions=parse_track_conditions(track, text))
    except StepLiteralError as exc:
        raise CommandError(f"{head}: {exc}") from None


def command_names() -> tuple[str, ...]:
    return tuple(PARSERS)


def split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise CommandError(f"cannot read the line: {exc}") from None


def parse(line: str, genres: Sequence[str] = DEFAULT_GENRES) -> Command:
    """The command a line stands for; CommandError (one line) if it is not one."""
    words = split(line.strip().removeprefix(":"))
    if not words:
        raise CommandError("empty command; type help for the list")
    head, args = words[0].lower(), words[1:]
    head = ALIASES.get(head, head)
    if head in PARSERS:
        return PARSERS[head](args, genres)
    try:
        track = track_by_name(head)
    except ValueError:
        track = None
    if track is not None and not head.isdecimal():
        return _literal(head, track, args)
    raise CommandError(f"unknown command {words[0]!r}; type help for the list")
