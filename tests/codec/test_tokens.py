from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codec.errors import CodecError
from codec.tokens import decode, encode, encode_text
from codec.vocab import Vocabulary
from patterns import Event, GroupParams, Pattern
from tests.strategies import patterns_st

SEED = (
    "genre:funk type:beat density:high intensity:mid group:1 "
    "step:0 track:1 offset:0 velocity:96 step:4 track:3 offset:2 velocity:84 end"
)


def test_decode_the_seed_form():
    d = decode(SEED)
    assert d.group == 1
    assert d.params == GroupParams(genre="funk", type="beat", density="high", intensity="mid")
    assert d.events == (Event(0, 1, 0, 96), Event(4, 3, 2, 84))
    assert d.dropped == () and d.ended


def test_encode_distinct_fields():
    p = Pattern(
        events=(Event(3, 2, -7, 41), Event(17, 4, 11, 120), Event(5, 6, 1, 60)),
        params=(GroupParams("jazz", "fill", "low", "high"),) + Pattern().params[1:],
    )
    assert encode_text(p, 1) == (
        "genre:jazz type:fill density:low intensity:high group:1 "
        "step:3 track:2 offset:-7 velocity:43 step:17 track:4 offset:11 velocity:119 end"
    )
    assert encode(p, 2)[-5:] == ["step:5", "track:6", "offset:1", "velocity:59", "end"]


@given(patterns_st())
def test_pattern_tokens_pattern_is_identity(pattern):
    rebuilt = Pattern(tempo=pattern.tempo, swing=pattern.swing)
    for group in range(1, 5):
        rebuilt = decode(encode(pattern, group)).apply(rebuilt)
    assert rebuilt == pattern


@given(patterns_st())
def test_encoded_tokens_are_all_in_the_vocabulary(pattern):
    vocab = Vocabulary.from_genres(["rock", "funk", "jazz", "hiphop", "latin"])
    for group in range(1, 5):
        ids = vocab.ids(encode(pattern, group))
        assert [vocab.token(i) for i in ids] == encode(pattern, group)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("type:beat genre:funk", 0, "expected genre:"),
        ("genre:funk type:loop density:low intensity:low group:1 end", 1, "type must be one of"),
        ("genre:funk type:beat density:low intensity:low group:5 end", 4, "group must be in 1..4"),
        ("genre:funk type:beat density:low intensity:low group:2 step:0 track:1 offset:0 "
         "velocity:9 end", 6, "track 1 is not in group 2"),
        ("genre:funk type:beat density:low intensity:low group:1 step:40 track:1 offset:0 "
         "velocity:9 end", 5, "step must be in 0..31, got 40"),
        ("genre:funk type:beat density:low intensity:low group:1 step:4 track:1 offset:0 "
         "velocity:9 step:2 track:1 offset:0 velocity:9 end", 9, "is not after"),
        ("genre:funk type:beat density:low intensity:low group:1 step:4 track:1 offset:x "
         "velocity:9 end", 7, "offset must be an integer"),
        ("genre:funk type:beat density:low intensity:low group:1 step:4 track:1 end",
         5, "incomplete event"),
        ("genre:funk type:beat density:low intensity:low group:1 step:4", 5, "incomplete event"),
        ("genre:funk type:beat density:low intensity:low group:1", 5, "no end token"),
        ("genre:funk type:beat density:low intensity:low group:1 end end", 6, "tokens after end"),
    ],
)
def test_strict_errors_name_position_and_token(text, position, message):
    with pytest.raises(CodecError, match=message) as info:
        decode(text)
    assert info.value.position == position
    assert str(info.value).startswith(f"token {position}")


def test_lenient_drops_broken_events_and_keeps_the_rest():
    text = (
        "genre:rock type:beat density:mid intensity:mid group:2 "
        "step:0 track:5 offset:0 velocity:95 "
        "step:2 track:1 offset:0 velocity:95 "  # wrong group
        "step:4 track:7 offset:99 velocity:95 "  # offset out of range
        "step:6 track:5 velocity:50 "  # missing offset
        "step:8 track:6 offset:-3 velocity:71"  # no end
    )
    d = decode(text, strict=False)
    assert d.events == (Event(0, 5, 0, 95), Event(8, 6, -3, 71))
    assert len(d.dropped) == 4
    assert "track 1 is not in group 2" in d.dropped[0]
    assert "offset must be in -48..47, got 99" in d.dropped[1]
    assert d.dropped[-1] == "sequence has no end token"
    assert not d.ended


TOKEN_SOUP = st.lists(
    st.one_of(
        st.sampled_from(SEED.split() + ["end", "<bos>", "track:12", "step:31", "offset:-48"]),
        st.text(max_size=12),
        st.builds(lambda k, v: f"{k}:{v}", st.sampled_from(
            ["step", "track", "offset", "velocity", "genre", "group", "type"]), st.integers()),
    ),
    max_size=40,
)


@given(TOKEN_SOUP, st.booleans())
def test_random_tokens_raise_only_codec_errors(tokens, strict):
    try:
        decode(tokens, strict=strict)
    except CodecError:
        pass


@given(st.text(max_size=200), st.booleans())
def test_random_text_raises_only_codec_errors(text, strict):
    try:
        decode(text, strict=strict)
    except CodecError:
        pass


# --- the canonical fast path reads exactly what the token reader reads --------------------


@given(patterns_st(), st.integers(1, 4))
def test_the_fast_path_agrees_with_the_token_reader(pattern, group):
    from codec.tokens import _decode_canonical

    text = encode_text(pattern, group)
    fast = _decode_canonical(text)
    assert fast is not None
    slow = decode(text.split())  # a list: read token by token
    assert fast == slow


token_soup = st.lists(
    st.sampled_from(
        ["genre:rock", "genre:a:b", "type:beat", "type:x", "density:low", "intensity:high",
         "group:1", "group:5", "step:0", "step:31", "step:32", "step:05", "track:1", "track:5",
         "track:13", "offset:0", "offset:-0", "offset:-48", "offset:48", "velocity:1",
         "velocity:127", "velocity:0", "velocity:128", "end", "<bos>", "track:4", "step:1"]
    ),
    max_size=30,
)  # fmt: skip


@given(token_soup)
def test_the_fast_path_never_accepts_what_the_token_reader_refuses(tokens):
    from codec.tokens import _decode_canonical

    text = " ".join(tokens)
    fast = _decode_canonical(text)
    try:
        slow = decode(tokens)
    except CodecError:
        assert fast is None
        return
    assert fast is None or fast == slow


def test_canonical_text_with_bos_and_out_of_order_events():
    from codec.tokens import _decode_canonical

    head = "genre:rock type:beat density:mid intensity:mid group:1"
    a = "step:0 track:1 offset:0 velocity:90"
    b = "step:0 track:3 offset:-4 velocity:60"
    assert _decode_canonical(f"<bos> {head} {a} {b} end").events == (
        Event(0, 1, 0, 90), Event(0, 3, -4, 60))
    assert _decode_canonical(f"{head} {b} {a} end") is None  # out of order: the reader says
    with pytest.raises(CodecError, match="is not after step 0 track 3"):
        decode(f"{head} {b} {a} end")
    assert _decode_canonical(f"{head}  {a} end") is None  # two spaces: read token by token
    assert decode(f"{head}  {a} end").events == (Event(0, 1, 0, 90),)
