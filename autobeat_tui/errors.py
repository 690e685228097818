"""Errors the command line prints as one line."""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


def shown(text: object) -> str:
    """Text from a file or the user, safe to print on a terminal: what is not printable
    (escape bytes, control characters, a lone surrogate) is written as its escape, so a
    name cannot drive the terminal."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        for c in str(text)
    )
