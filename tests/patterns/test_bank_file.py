from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codec.tokens import _decode_canonical, decode
from patterns.bank import SLOT_NAMES, Bank, BankError, Chain, load_bank, save_bank
from patterns.bank_file import FORMAT_VERSION, dumps, encode_bank, loads
from patterns.pattern import Event, GroupParams, Pattern
from tests.strategies import GENRES, params_st, patterns_st

names_st = st.text(max_size=24)
seeds_st = st.none() | st.integers(0, 2**32 - 1)
models_st = st.sampled_from(["", "autobeat-small.gguf", "my model/v2.gguf"])
autos_st = st.sets(st.sampled_from(["density", "intensity"])).map(frozenset)


@st.composite
def slot_patterns_st(draw):
    pattern = draw(patterns_st(velocities=st.integers(1, 127)))
    params = tuple(
        GroupParams(
            p.genre, p.type, p.density, p.intensity, seed=draw(seeds_st), model=draw(models_st),
            auto=draw(autos_st),
        )
        for p in pattern.params
    )
    tempo = draw(st.floats(20, 300, allow_nan=False) | st.sampled_from([20.0, 97.5, 300.0]))
    swing = draw(st.floats(50, 75, allow_nan=False))
    return Pattern(pattern.events, params, tempo=tempo, swing=swing, name=draw(names_st))


@st.composite
def banks_st(draw):
    slots = draw(st.lists(st.sampled_from(SLOT_NAMES), unique=True, max_size=6))
    bank_slots = {s: draw(slot_patterns_st()) for s in slots}
    chain_names = draw(
        st.lists(
            st.text(min_size=1, max_size=10).filter(lambda n: n == n.strip() and n.isprintable()),
            unique=True,
            max_size=3,
        )
    )
    chains = {
        n: Chain(
            n,
            tuple(
                draw(
                    st.lists(st.tuples(st.sampled_from(SLOT_NAMES), st.integers(1, 99)), max_size=5)
                )
            ),
        )
        for n in chain_names
    }
    return Bank(bank_slots, chains, draw(names_st))


@given(banks_st())
def test_bank_file_bank_round_trip_is_identical(bank):
    result = loads(encode_bank(bank))
    assert result.warnings == ()
    assert result.bank == bank
    assert encode_bank(result.bank) == encode_bank(bank)  # stable text: clean diffs


def _distinct_pattern() -> Pattern:
    """Every field different, so a swap of any two shows."""
    events = (
        Event(0, 1, 5, 111),
        Event(3, 3, -7, 90),
        Event(5, 6, 11, 33),
        Event(9, 9, -20, 64),
        Event(30, 12, 47, 1),
    )
    params = (
        GroupParams("funk", "beat", "high", "low", seed=11, model="m1.gguf"),
        GroupParams("jazz", "fill", "low", "mid", seed=22, model="m2.gguf"),
        GroupParams("latin", "beat", "mid", "high", seed=None, model=""),
        GroupParams("hiphop", "fill", "high", "high", seed=4294967295, model="m4.gguf"),
    )
    return Pattern(events, params, tempo=97.25, swing=57.5, name='Tight "one" é')


def test_file_is_readable_json_with_token_text_per_group(tmp_path):
    bank = Bank(
        {"C07": _distinct_pattern()}, {"song": Chain("song", (("C07", 3), ("A01", 1)))}, "live"
    )
    text = dumps(bank)
    data = json.loads(text)
    assert data["format"] == "autobeat-bank" and data["version"] == FORMAT_VERSION
    assert data["name"] == "live"
    slot = data["slots"]["C07"]
    assert (slot["name"], slot["tempo"], slot["swing"]) == ('Tight "one" é', 97.25, 57.5)
    assert [g["seed"] for g in slot["groups"]] == [11, 22, None, 4294967295]
    assert [g["model"] for g in slot["groups"]] == ["m1.gguf", "m2.gguf", "", "m4.gguf"]
    assert slot["groups"][0]["tokens"] == (
        "genre:funk type:beat density:high intensity:low group:1 "
        "step:0 track:1 offset:5 velocity:111 step:3 track:3 offset:-7 velocity:90 end"
    )
    assert slot["groups"][2]["tokens"] == (
        "genre:latin type:beat density:mid intensity:high group:3 "
        "step:9 track:9 offset:-20 velocity:64 end"
    )
    # the token text is the codec's: decode reads every group back
    for number, group in enumerate(slot["groups"], 1):
        assert decode(group["tokens"]).group == number
    assert data["chains"] == {"song": [["C07", 3], ["A01", 1]]}
    # one line per group, names readable (not \u escaped)
    lines = text.splitlines()
    assert sum('"tokens": "genre:' in line for line in lines) == 4
    assert '"Tight \\"one\\" é"' in text
    assert loads(text).bank == bank


def test_empty_bank_file():
    text = dumps(Bank(name="x"))
    assert json.loads(text) == {
        "format": "autobeat-bank",
        "version": FORMAT_VERSION,
        "name": "x",
        "slots": {},
        "chains": {},
    }
    assert loads(text).bank == Bank(name="x")


def test_lone_surrogate_in_a_name_still_round_trips():
    bank = Bank({"A01": Pattern(name="bad \ud800 name")})
    data = encode_bank(bank)
    assert loads(data).bank == bank


def _file(slots=None, **top) -> str:
    base = {"format": "autobeat-bank", "version": 1, "name": "t"}
    base["slots"] = {} if slots is None else slots
    base.update(top)
    return json.dumps(base)


def _good_slot() -> dict:
    return json.loads(dumps(Bank({"A01": _distinct_pattern()})))["slots"]["A01"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        (
            '{"format": "autobeat-bank", "version": 1, "slots": {"A01": {',
            "truncated, not valid JSON at line 1",
        ),
        ("not json at all", "not valid JSON at line 1 column 1"),
        ("[1, 2]", 'not an AutoBeat bank \\(no "format": "autobeat-bank"\\)'),
        ('{"format": "other"}', "not an AutoBeat bank"),
        ('{"format": "autobeat-bank", "version": "1"}', "version: must be a positive integer"),
        ('{"format": "autobeat-bank", "version": 9}', "version 9 is newer than this program"),
        (_file(slots=[]), "slots: must be an object"),
        (_file(chains=[1]), "chains: must be an object"),
        (_file(name=5), "name: must be a string"),
        ('{"format": "autobeat-bank", "format": "autobeat-bank"}', "key 'format' appears twice"),
    ],
)
def test_unusable_files_raise_bank_error_naming_the_file(text, message):
    with pytest.raises(BankError, match=f"^bank.json: .*{message}"):
        loads(text, "bank.json")


def test_not_utf8_is_a_bank_error():
    with pytest.raises(BankError, match="not UTF-8 text at byte 1"):
        loads(b"{\xff}", "bank.json")


def _retoken(slot: dict, group: int, old: str, new: str) -> None:
    slot["groups"][group - 1]["tokens"] = slot["groups"][group - 1]["tokens"].replace(old, new)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: _retoken(s, 2, "track:6", "track:1"),
         "group 2 \\(hats\\): tokens: token 6 'track:1': track 1 is not in group 2"),
        (lambda s: s["groups"][0].update(tokens="genre:funk type:beat"),
         "group 1 \\(drums\\): tokens: .*density"),
        (lambda s: _retoken(s, 1, " end", ""),
         "group 1 \\(drums\\): tokens: .*no end token"),
        (lambda s: s["groups"][3].update(seed=-1), "group 4 \\(cymbals\\): seed must be in 0"),
        (lambda s: s["groups"][3].update(seed="7"), "group 4 .*: seed: must be an integer"),
        (lambda s: s["groups"][2].update(model=3), "group 3 \\(toms\\): model: must be a string"),
        (lambda s: s.update(tempo=400), "tempo must be in 20..300 BPM, got 400"),
        (lambda s: s.update(tempo="fast"), "tempo: must be a number"),
        (lambda s: s.update(swing=True), "swing: must be a number"),
        (lambda s: s.update(name=["x"]), "name: must be a string"),
        (lambda s: s.update(groups=s["groups"][:3]), "groups: must be a list of 4 groups, got 3"),
        (lambda s: s["groups"].reverse(), "group 1 \\(drums\\): tokens: say group:4"),
    ],
)  # fmt: skip
def test_a_bad_slot_is_reported_and_skipped_and_the_others_load(edit, message):
    bad = _good_slot()
    edit(bad)
    text = _file({"A01": _good_slot(), "A02": bad, "A03": _good_slot()})
    result = loads(text, "bank.json")
    assert result.bank.filled() == ["A01", "A03"]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("bank.json: slot A02 skipped: ")
    assert re.search(message, result.warnings[0]), result.warnings[0]
    # the bad slot is kept as it was, so saving does not delete the user's hand edit
    assert result.bank.unread_slots == {"A02": bad}
    again = loads(encode_bank(result.bank), "bank.json")
    assert again.bank == result.bank
    # replacing the slot replaces the unread entry
    fixed = result.bank.with_slot("A02", _distinct_pattern())
    assert fixed.unread_slots == {} and loads(encode_bank(fixed)).warnings == ()


def test_bad_slot_names_and_chains_are_skipped_and_kept():
    text = _file(
        {"a1": _good_slot(), "Z99": _good_slot()},
        chains={"ok": [["A01", 2]], "bad": [["A01", 0]], "worse": "A01"},
    )
    result = loads(text, "b.json")
    assert result.bank.filled() == ["A01"]
    assert list(result.bank.chains) == ["ok"]
    assert set(result.bank.unread_chains) == {"bad", "worse"}
    assert "Z99" in result.bank.unread_slots
    assert len(result.warnings) == 3
    assert any("chain 'bad' skipped: entry 1: repeats must be in 1..99, got 0" in w
               for w in result.warnings)  # fmt: skip
    again = loads(encode_bank(result.bank))
    assert again.bank == result.bank


@pytest.mark.parametrize("other", ["a01", "a1", "A1", " a01"])
def test_the_same_slot_spelled_twice_refuses_the_file(other):
    """A01 and a01 both in the file: neither is dropped without a word; the file is refused
    (open_bank then leaves it untouched and saving over it is refused)."""
    text = _file({"A01": _good_slot(), other: _good_slot()})
    with pytest.raises(BankError, match=f"slot A01 is in the file twice \\(as 'A01' and "
                                        f"{other!r}\\); keep one of them"):
        loads(text)


def test_load_bank_file_errors(tmp_path):
    with pytest.raises(BankError, match="no bank file there"):
        load_bank(tmp_path / "missing.json")
    with pytest.raises(BankError, match="is a folder"):
        load_bank(tmp_path)


# --- one grammar: the codec's ------------------------------------------------------------


@given(patterns_st(velocities=st.integers(1, 127)), st.integers(1, 4))
def test_the_bank_file_holds_each_group_as_the_codecs_canonical_text(pattern, group):
    bank_text = dumps(Bank({"A01": pattern}))
    tokens = json.loads(bank_text)["slots"]["A01"]["groups"][group - 1]["tokens"]
    assert _decode_canonical(tokens) is not None  # the codec's fast path reads it
    back = decode(tokens)
    assert back.events == pattern.group_events(group)


def test_a_bad_token_in_a_bank_says_what_the_codec_says():
    text = dumps(Bank({"A01": Pattern((Event(0, 1),))})).replace("velocity:100", "velocity:0")
    result = loads(text, "b.json")
    assert result.bank.filled() == []
    assert result.warnings == (
        "b.json: slot A01 skipped: group 1 (drums): tokens: token 8 'velocity:0': velocity must "
        "be in 1..127, got 0",)


# --- fuzzing: only BankError comes out ----------------------------------------------------


def _load_or_bank_error(data: bytes | str) -> None:
    try:
        result = loads(data, "fuzz.json")
    except BankError:
        return
    # whatever loads also saves and loads back the same (nothing is lost on save)
    again = loads(encode_bank(result.bank), "fuzz.json")
    assert again.bank == result.bank


@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    _load_or_bank_error(data)


_VALID = dumps(
    Bank(
        {"A01": _distinct_pattern(), "B02": Pattern(name="empty")},
        {"s": Chain("s", (("A01", 2),))},
        "fuzz",
    )
)


@given(st.data())
def test_fuzz_mutated_valid_files(data):
    text = _VALID
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["cut", "delete", "replace", "insert"]))
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        chunk = data.draw(st.text(alphabet='{}[]":,0123456789-. abcdegnrt\\ul', max_size=8))
        if kind == "cut":
            text = text[:i]
        elif kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "replace":
            text = text[:i] + chunk + text[j:]
        else:
            text = text[:i] + chunk + text[i:]
    _load_or_bank_error(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.sampled_from(["top", "slots", "slot", "group", "field", "chains", "chain"]),
    st.sampled_from(["name", "tempo", "swing", "groups", "tokens", "seed", "model", "version"]),
    json_values,
)
def test_fuzz_wrong_schema_values(where, key, value):
    data = json.loads(_VALID)
    if where == "top":
        data[key] = value
    elif where == "slots":
        data["slots"] = value
    elif where == "slot":
        data["slots"]["A01"] = value
    elif where == "group":
        data["slots"]["A01"]["groups"][1] = value
    elif where == "field":
        target = data["slots"]["A01"]
        if key in ("tokens", "seed", "model"):
            target = target["groups"][0]
        target[key] = value
    elif where == "chains":
        data["chains"] = value
    else:
        data["chains"]["s"] = value
    _load_or_bank_error(json.dumps(data))


def test_deep_nesting_and_huge_numbers_are_bank_errors():
    with pytest.raises(BankError):
        loads("[" * 100000 + "]" * 100000)
    result = loads(_file({"A01": {**_good_slot(), "tempo": 10**400}}))
    assert "tempo: must be a finite number" in result.warnings[0]
    with pytest.raises(BankError):
        loads('{"format": "autobeat-bank", "version": ' + "9" * 5000 + "}")


def test_saved_file_round_trip_through_disk(tmp_path):
    bank = Bank({"A01": _distinct_pattern(), "H16": Pattern(name="blank")}, name="disk")
    save_bank(bank, tmp_path / "b.json")
    assert load_bank(tmp_path / "b.json").bank == bank


def test_genres_of_the_strategies_are_written_as_given():
    # a guard for the strategies above: every genre is one word, so token text holds it
    assert all(" " not in g and ":" not in g for g in GENRES)
    assert params_st is not None


def test_auto_levels_are_kept_and_an_older_file_reads_as_pinned():
    auto = GroupParams(genre="funk", density="high", auto=frozenset({"density"}))
    text = dumps(Bank({"A01": Pattern(params=(auto,) * 4)}))
    assert '"auto": ["density"]' in text
    again = loads(text).bank.slots["A01"]
    assert again.params[0].level("density") == "auto:high"
    older = json.loads(text)
    for group in older["slots"]["A01"]["groups"]:
        del group["auto"]
    assert loads(json.dumps(older)).bank.slots["A01"].params[0].level("density") == "high"
    older["slots"]["A01"]["groups"][0]["auto"] = "density"
    result = loads(json.dumps(older))
    assert "A01" not in result.bank.slots
    assert any("auto: must be a list of density, intensity" in m for m in result.warnings)
