"""Typed access to the members of a decoded request body, for the handlers of every front end.

``member(body, "cluster", str)`` is ``body["cluster"]`` checked against its type. Whatever a client
sends, a handler gets the type it asked for or the request is refused with a ClientException
naming the member's whole path (``overrides.containerOverrides[0].name: expected str, got list.``),
never a ``TypeError`` or ``KeyError`` from deep inside a handler. Nested members are reached with
``objects`` (each item of a list of objects, with its path) and the ``path=`` of the member calls.

The body itself comes from ``minecs.api.bodies``: strings there are valid UTF-8 and numbers are
finite and within int64, so these checks are about shape only. ``bool`` is never an ``int`` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from minecs.errors import ClientError

T = TypeVar("T")
_JSON_NAMES = {str: "str", int: "int", bool: "bool", float: "float", list: "list", dict: "object"}


def where(path: str, name: str) -> str:
    """The path of member ``name`` inside the object at ``path`` ("" is the body itself)."""
    return f"{path}.{name}" if path else name


def member(
    body: Mapping[str, Any], name: str, kind: type[T], *, required: bool = False, path: str = ""
) -> T | None:
    """``body[name]`` checked against ``kind``; missing-but-required or a wrong type is a ClientException."""
    value = body.get(name)
    if value is None:
        if required:
            raise ClientError(f"{where(path, name)}: is required.")
        return None
    return checked(value, kind, where(path, name))


def checked(value: Any, kind: type[T], path: str) -> T:
    wrong_int = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_int:
        raise ClientError(f"{path}: expected {_name(kind)}, got {_name(type(value))}.")
    return value


def _name(kind: type[Any]) -> str:
    return _JSON_NAMES.get(kind, kind.__name__)


def required_str(body: Mapping[str, Any], name: str, *, path: str = "") -> str:
    value = member(body, name, str, required=True, path=path)
    assert value is not None
    return value


def str_list(body: Mapping[str, Any], name: str, *, required: bool = False, path: str = "") -> list[str]:
    values = member(body, name, list, required=required, path=path) or []
    for index, value in enumerate(values):
        checked(value, str, f"{where(path, name)}[{index}]")
    return list(values)


def objects(
    body: Mapping[str, Any], name: str, *, required: bool = False, path: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """Each item of the list of objects ``body[name]``, with its path (``name[i]``); all checked first."""
    values = member(body, name, list, required=required, path=path) or []
    paths = [f"{where(path, name)}[{index}]" for index in range(len(values))]
    return [(item, checked(value, dict, item)) for item, value in zip(paths, values, strict=True)]
