"""The problem collector every validation rule writes to, and the paths rules build."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from minecs.errors import ExpressionError, FieldProblem, ValidationError
from minecs.model.codec import Decoder
from minecs.model.expression import parse_expression

T = TypeVar("T")

CLIENT = "ClientException"
INVALID_PARAMETER = "InvalidParameterException"


class Report:
    """Collects every problem found in one document, tagged with where the document came from."""

    def __init__(self, source: str = "") -> None:
        self.source = source
        self.problems: list[FieldProblem] = []

    def add(self, path: str, message: str, code: str = CLIENT) -> None:
        self.problems.append(FieldProblem(path, message, code, self.source))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


def decode_or_raise(
    cls: type[T],
    data: Any,
    source: str = "",
    narrowed: Mapping[type[StrEnum], tuple[StrEnum, ...]] | None = None,
) -> T:
    """Decode a request body into ``cls``; structural problems (an enum value outside ``narrowed``
    among them) raise before any rule runs."""
    decoder = Decoder(source, narrowed)
    decoded = decoder.decode(cls, data)
    if decoder.problems:
        raise ValidationError(decoder.problems)
    return decoded


UNKNOWN_MEMBER = "Unknown parameter in "


def decode_keeping_unknown(
    cls: type[T],
    data: Any,
    source: str = "",
    narrowed: Mapping[type[StrEnum], tuple[StrEnum, ...]] | None = None,
) -> tuple[T, list[FieldProblem]]:
    """As ``decode_or_raise``, except that when every problem is an unknown member (a mistyped
    name, most often) the decoded object is returned with those problems, so the rules still run
    and a required member the typo left out is reported too."""
    decoder = Decoder(source, narrowed)
    decoded = decoder.decode(cls, data)
    if any(not p.message.startswith(UNKNOWN_MEMBER) for p in decoder.problems):
        raise ValidationError(decoder.problems)
    return decoded, decoder.problems


def container_path(index: int, member: str = "") -> str:
    base = f"containerDefinitions[{index}]"
    return f"{base}.{member}" if member else base


def in_range(value: int, low: int, high: int) -> bool:
    return low <= value <= high


def check_expression(expression: str, path: str, report: Report) -> None:
    """A memberOf expression placement can evaluate, or the problem at ``path``."""
    try:
        parse_expression(expression)
    except ExpressionError as exc:
        report.add(path, f"Invalid placement constraint expression: {exc.message}.", INVALID_PARAMETER)
