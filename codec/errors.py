"""The codec's own error: every bad input to the codec comes out as one of these."""

from __future__ import annotations


class CodecError(ValueError):
    """A token sequence or a file the codec cannot read.

    ``position`` is the index of the offending token (or None), ``token`` the token.
    """

    def __init__(self, message: str, position: int | None = None, token: str | None = None):
        if position is not None:
            where = f"token {position}" + (f" {token!r}" if token is not None else "")
            message = f"{where}: {message}"
        super().__init__(message)
        self.position = position
        self.token = token
