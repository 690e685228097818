"""Subcommands of `autobeat`, one module each (see autobeat_tui/cli.py)."""
