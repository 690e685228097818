from __future__ import annotations

import pytest

from patterns.kit import KitError, KitMap


def test_general_midi_default():
    kit = KitMap.general_midi()
    assert kit.note(1) == 36 and kit.note(12) == 51
    assert all(kit.channel(t) == 10 for t in range(1, 13))


def test_toml_kit(tmp_path):
    path = tmp_path / "kit.toml"
    path.write_text(
        'name = "TR-8S"\nchannel = 11\n[tracks]\nkick = 35\nsnare = { note = 40, channel = 12 }\n'
        "5 = 43\n"
    )
    kit = KitMap.from_toml(path)
    assert kit.name == "TR-8S"
    assert (kit.note(1), kit.channel(1)) == (35, 11)
    assert (kit.note(3), kit.channel(3)) == (40, 12)
    assert kit.note(5) == 43
    assert (kit.note(12), kit.channel(12)) == (51, 11)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tracks]\nkick = 200\n", "tracks.kick: note must be in 0..127, got 200"),
        ("[tracks]\ncowbell = 56\n", "tracks.cowbell: unknown track 'cowbell'"),
        ("channel = 17\n", "channel must be in 1..16, got 17"),
        ("[tracks]\nkick = { note = 36, channel = 0 }\n", "channel must be in 1..16, got 0"),
        ("kick = = 3", "not a TOML file"),
    ],
)
def test_bad_kits_name_file_and_field(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(KitError, match=message) as info:
        KitMap.from_toml(path)
    assert str(path) in str(info.value)


def test_missing_kit_file(tmp_path):
    with pytest.raises(KitError, match="cannot read kit map"):
        KitMap.from_toml(tmp_path / "nope.toml")
