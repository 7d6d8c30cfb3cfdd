"""Setting values: a file's or a variable's value turned into its field's type, for ``minecs.settings``.

The types a setting may have: ``str``, ``int``, ``float``, ``bool`` (``1/true/yes/on`` or
``0/false/no/off``), ``Path`` (``~`` expanded), a ``StrEnum`` (by value), a tuple of ints (a list in
the file, ``a,b`` or ``a b`` in a variable), and any of them ``| None``. Every bad value is a
``SettingsError`` naming where it came from.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

from minecs.errors import SettingsError


def coerce(hint: Any, value: Any, where: str) -> Any:
    """``value`` (YAML's, or a variable's text) as the field type ``hint`` says; loud when it is not."""
    target = _plain_type(hint)
    if isinstance(target, type) and issubclass(target, Enum):
        choices = [str(member.value) for member in target]
        if str(value) not in choices:
            raise SettingsError(f"{where}: {value!r} is not one of {', '.join(choices)}")
        return target(str(value))
    try:
        if typing.get_origin(target) is tuple:
            return _as_ints(target, value)
        if target is bool:
            return _as_bool(value)
        if target is Path:
            return Path(str(value)).expanduser()
        if target in (int, float, str):
            return target(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{where}: {value!r} is not a valid {target.__name__}") from exc
    raise SettingsError(f"{where}: unsupported setting type {hint!r}")


def _plain_type(hint: Any) -> Any:
    if isinstance(hint, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def _as_ints(hint: Any, value: Any) -> tuple[int, ...]:
    """A list of ints from the file, or ``1,2`` / ``1 2`` from a variable, as long as ``hint`` says."""
    items = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    ints = tuple(int(item) for item in items)
    size = typing.get_args(hint)
    if Ellipsis not in size and len(ints) != len(size):
        raise ValueError(value)
    return ints
