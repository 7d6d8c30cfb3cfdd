"""The cluster query language of ``memberOf`` constraints (and ListContainerInstances' ``filter``).

Pure: ``parse_expression`` turns the text into alternatives of terms, or raises ``ExpressionError``
(``InvalidParameterException``) naming the first term it cannot read; ``matches`` evaluates a parsed
expression against an instance's attributes. Every place an expression enters minecs (RunTask,
CreateService, RegisterTaskDefinition, apply, and ListContainerInstances' filter) parses it there,
so a task or service in the store never holds one placement cannot evaluate.

The subset minecs reads: ``attribute:<name> == <value>``, ``!=``, ``in [a, b]``, ``not_in [...]``,
``exists``, joined with ``and`` / ``or`` (``and`` binds tighter). ECS's language has more
(``=~``, ``task:group``, ``registeredAt``, ...): those are refused, never half understood.
Choice: ECS's own wording for an invalid expression is not documented; ours names the term.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from minecs.errors import ExpressionError

MAX_LENGTH = 2000
"""ECS (PlacementConstraint.expression): "The expression can have a maximum length of 2000 characters."."""

_TERM = re.compile(
    r"^\s*attribute:(?P<name>[\w.\-/]+)\s*(?:(?P<op>==|!=)\s*(?P<value>[^\s\[\]]+)|"
    r"(?P<set>in|not_in)\s*\[(?P<values>[^\]]*)\]|(?P<exists>exists))\s*$"
)


class Test(Enum):
    EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "not_in"
    EXISTS = "exists"


@dataclass(frozen=True)
class Term:
    attribute: str
    test: Test
    values: frozenset[str] = frozenset()

    def holds(self, attributes: Mapping[str, str]) -> bool:
        have = attributes.get(self.attribute)
        if self.test is Test.EXISTS:
            return have is not None
        inside = have in self.values
        return inside if self.test in (Test.EQUALS, Test.IN) else not inside


Expression = tuple[tuple[Term, ...], ...]
"""Alternatives (``or``) of conjunctions (``and``) of terms."""


def parse_expression(text: str) -> Expression:
    if not isinstance(text, str):
        raise ExpressionError(f"a memberOf expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"a memberOf expression is at most {MAX_LENGTH} characters")
    return _parsed(text)


@lru_cache(maxsize=1024)
def _parsed(text: str) -> Expression:
    return tuple(
        tuple(_term(term) for term in re.split(r"\s+and\s+", alternative))
        for alternative in re.split(r"\s+or\s+", text)
    )


def _term(text: str) -> Term:
    found = _TERM.match(text)
    if found is None:
        raise ExpressionError(f"unsupported memberOf expression term {text.strip()!r}")
    name = found["name"]
    if found["exists"]:
        return Term(name, Test.EXISTS)
    if found["op"]:
        return Term(name, Test(found["op"]), frozenset({found["value"]}))
    values = frozenset(v.strip() for v in found["values"].split(",") if v.strip())
    return Term(name, Test(found["set"]), values)


def matches(expression: str, attributes: Mapping[str, str]) -> bool:
    """Whether an instance with ``attributes`` is a member; ``ExpressionError`` for a bad expression."""
    return any(all(t.holds(attributes) for t in terms) for terms in parse_expression(expression))
