"""The session host: one process per bank that keeps the session playing when the
terminal goes, and the clients that talk to it over a Unix domain socket.

Headless: nothing here imports textual or rich.
"""
