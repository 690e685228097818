"""Realtime: clocks, the player, MIDI ports, external sync. Headless.

The engine runs in its own process (its own interpreter: no GIL shared with the
app or the model) and is driven over a pipe with the dataclasses of
engine/messages.py:

- client.py: ``Engine``, the owner's side (start, send, poll, stop).
- process.py: the engine process: waits in select() until shortly before the next
  due time, spins the rest, reports at most 60 states a second.
- player.py: loops an immutable pattern on an absolute schedule; clock master;
  following an external clock through follower.py (least squares, then a DLL).
- schedule.py: a pattern compiled to note-ons at grid ticks (offsets, swing, kit).
- ports.py: python-rtmidi outputs and inputs (ALSA, JACK, CoreMIDI, WinMM), the
  virtual "AutoBeat out", the ``none`` output.
- audio.py: the sound card output (miniaudio): a shadow player's note-ons mixed at
  their due samples in the device's callback; drumsynth.py the built-in kit,
  drumkit.py kit folders of WAV files, mixer.py the mixer (choke, retrigger),
  hits.py a player's note-ons as sounds, render.py the offline WAV render.
- jacktools.py drives jackd, jack_midi_dump, jack_midi_clock and jack_transport for
  the benchmarks (autobeat_tui/bench/) and the tests.
"""
