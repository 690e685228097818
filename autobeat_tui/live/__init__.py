"""The app's logic without a screen: the command language, step literals, undo
history and the session state. Headless: imports neither textual nor rich, so it
is unit-tested directly (tests/autobeat_tui/live/).
"""
