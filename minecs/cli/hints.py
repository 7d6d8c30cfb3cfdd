""" "Did you mean": the nearest right word for a mistyped subcommand, resource kind or member name.

A suggestion is added to what the user reads on the terminal, never to an API answer: the ECS
API's ``Unknown parameter in ...`` stays botocore's words, and the CLI appends the hint when it
prints the problem. ``Parser`` is the argparse parser of every ``minecs`` command, so an invalid
choice anywhere (``minecs gte``, ``minecs get servics``) gets one.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Iterable
from typing import NoReturn

from minecs.errors import FieldProblem

_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<word>[^']*)' \(choose from (?P<choices>.*)\)")
_UNKNOWN_MEMBER = re.compile(r'Unknown parameter in [^:]*: "(?P<word>[^"]*)", must be one of: (?P<names>.*)$')


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word``, when one is close enough to be a typo of it."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'get'?`` or the empty string."""
    best = nearest(word, choices)
    return f"; did you mean '{best}'?" if best else ""


def choice_hint(message: str) -> str:
    """argparse's ``invalid choice`` message with the nearest choice appended."""
    match = _INVALID_CHOICE.search(message)
    if match is None:
        return message
    choices = [c.strip().strip("'") for c in match["choices"].split(",")]
    return message + did_you_mean(match["word"], choices)


def problem_line(problem: FieldProblem) -> str:
    """A problem as the CLI prints it: its rendering, and for an unknown member the nearest name."""
    text = problem.render()
    match = _UNKNOWN_MEMBER.search(problem.message)
    if match is None:
        return text
    best = nearest(match["word"], (n.strip() for n in match["names"].split(",")))
    if best is None:
        return text
    word = match["word"]
    return text.replace(f'"{word}", must', f'"{word}" (did you mean "{best}"?), must', 1)


class Parser(argparse.ArgumentParser):
    """argparse, with a "did you mean" on every invalid choice."""

    def error(self, message: str) -> NoReturn:
        super().error(choice_hint(message))
