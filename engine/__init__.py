"""Realtime: clocks, the player, MIDI ports, external sync. Headless."""
