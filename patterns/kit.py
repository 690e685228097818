"""Kit maps: which MIDI note and channel each of the 12 tracks plays.

General MIDI on channel 10 is the default. Another kit is a TOML file::

    name = "TR-8S"
    channel = 10            # default for every track (1..16)

    [tracks]
    kick = 36               # a note,
    snare = { note = 40, channel = 11 }   # or a note and a channel
    5 = 42                  # tracks by name or by number

Tracks the file does not name keep their General MIDI note.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from patterns.files import FileError, read_user_text
from patterns.grid import TRACKS, track_by_name

GM_CHANNEL = 10


class KitError(ValueError):
    """A kit map that cannot be used: names the file, the key and what was wrong."""


@dataclass(frozen=True, slots=True)
class KitMap:
    """track -> (note 0..127, channel 1..16) for the 12 tracks."""

    notes: tuple[int, ...]
    channels: tuple[int, ...]
    name: str = "General MIDI"

    def __post_init__(self) -> None:
        if len(self.notes) != len(TRACKS) or len(self.channels) != len(TRACKS):
            raise KitError(f"a kit maps all {len(TRACKS)} tracks")
        for i, (note, channel) in enumerate(zip(self.notes, self.channels, strict=True), 1):
            if not 0 <= note <= 127:
                raise KitError(f"track {i}: note must be in 0..127, got {note}")
            if not 1 <= channel <= 16:
                raise KitError(f"track {i}: channel must be in 1..16, got {channel}")

    def note(self, track: int) -> int:
        return self.notes[track - 1]

    def channel(self, track: int) -> int:
        """The channel, 1..16 as musicians count (mido wants channel - 1)."""
        return self.channels[track - 1]

    @classmethod
    def general_midi(cls) -> KitMap:
        return cls(
            tuple(t.gm_note for t in TRACKS), tuple(GM_CHANNEL for _ in TRACKS), "General MIDI"
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> KitMap:
        path = Path(path)
        try:
            data = tomllib.loads(read_user_text(path, "kit map"))
        except FileError as exc:
            raise KitError(str(exc)) from None
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise KitError(f"{path}: not a TOML file: {str(exc)[:120]}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict, source: str = "kit") -> KitMap:
        default_channel = data.get("channel", GM_CHANNEL)
        if (isinstance(default_channel, bool) or not isinstance(default_channel, int)
                or not 1 <= default_channel <= 16):
            raise KitError(f"{source}: channel must be in 1..16, got {default_channel!r}")
        notes = [t.gm_note for t in TRACKS]
        channels = [default_channel] * len(TRACKS)
        tracks = data.get("tracks", {})
        if not isinstance(tracks, dict):
            raise KitError(f"{source}: [tracks] must be a table")
        for key, value in tracks.items():
            try:
                number = track_by_name(str(key))
            except ValueError as exc:
                raise KitError(f"{source}: tracks.{key}: {exc}") from None
            if isinstance(value, dict):
                note = value.get("note", notes[number - 1])
                channel = value.get("channel", default_channel)
            else:
                note, channel = value, default_channel
            if isinstance(note, bool) or not isinstance(note, int) or not 0 <= note <= 127:
                raise KitError(f"{source}: tracks.{key}: note must be in 0..127, got {note!r}")
            if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= 16:
                raise KitError(
                    f"{source}: tracks.{key}: channel must be in 1..16, got {channel!r}"
                )
            notes[number - 1] = note
            channels[number - 1] = channel
        name = data.get("name", source)
        return cls(tuple(notes), tuple(channels), str(name))
