"""The one guard for numbers on the command line.

Every numeric option is parsed by ``number(lo, hi)`` or ``integer(lo, hi)``: a
finite number (an integer) inside its range, or one line naming the option, the
range and what was given (``autobeat play: --seconds must be in 0..1e+06 (above
0), got nan``). ``guard_parser`` wraps any numeric option a module declared
with a bare ``type=int`` or ``type=float`` in the same guard with a generous
default range, so no number reaches a command unchecked.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

INT_RANGE = (0, 10**9)  # the default range of a bare type=int option
FLOAT_RANGE = (0.0, 1e6)  # of a bare type=float option


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class Number:
    """An argparse ``type``: parse, then check finite and inside lo..hi."""

    def __init__(self, lo: float, hi: float, integer: bool = False, above: bool = False):
        self.lo = lo
        self.hi = hi
        self.integer = integer
        self.above = above  # lo itself is not allowed
        self.__name__ = "integer" if integer else "number"

    def describe(self) -> str:
        kind = "an integer in" if self.integer else "in"
        rule = f"{kind} {_fmt(self.lo)}..{_fmt(self.hi)}"
        return rule + (f" (above {_fmt(self.lo)})" if self.above else "")

    @staticmethod
    def _got(text: str) -> str:
        return text if text and text.isprintable() and " " not in text else repr(text)

    def __call__(self, text: str) -> int | float:
        text = text.strip()
        value: int | float
        try:
            if self.integer:
                value = int(text, 10)
            else:
                value = float(text)
        except (ValueError, TypeError):
            raise argparse.ArgumentTypeError(
                f"must be {self.describe()}, got {self._got(text)}") from None
        bad = not math.isfinite(value) or not self.lo <= value <= self.hi
        if bad or (self.above and value == self.lo):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {self._got(text)}")
        return value

    def __repr__(self) -> str:
        return f"Number({self.describe()})"


def number(lo: float, hi: float, *, above: bool = False) -> Number:
    """A finite number in lo..hi (``above``: lo itself excluded)."""
    return Number(float(lo), float(hi), integer=False, above=above)


def integer(lo: int, hi: int) -> Number:
    """An integer in lo..hi."""
    return Number(lo, hi, integer=True)


SEED = integer(0, 2**32 - 1)
THREADS = integer(1, 256)
BPM = number(20, 300)


class Parser(argparse.ArgumentParser):
    """argparse, with a number out of range said in one line: ``autobeat play: --bpm
    must be in 20..300, got 400`` (other usage errors as argparse says them)."""

    def error(self, message: str):
        m = _NUMBER_ERROR.match(message)
        if m:
            self.exit(2, f"{self.prog}: {m.group(1)} must be {m.group(2)}\n")
        super().error(message)


_NUMBER_ERROR = re.compile(r"argument (--?[\w-]+)(?:/--?[\w-]+)*: must be (.*)", re.S)


def guard_parser(parser: argparse.ArgumentParser) -> None:
    """Give every bare int/float option of ``parser`` and its subparsers the guard."""
    for action in parser._actions:
        if action.type is int:
            action.type = integer(*INT_RANGE)
        elif action.type is float:
            action.type = number(*FLOAT_RANGE)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                guard_parser(sub)


def numeric_actions(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    """(command path, action) of every numeric option, for tests."""
    found = []

    def walk(p: argparse.ArgumentParser, where: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{where} {name}".strip())
            elif isinstance(action.type, Number) or action.type in (int, float):
                found.append((where, action))

    walk(parser, "")
    return found


Checker = Callable[[str], int | float]
