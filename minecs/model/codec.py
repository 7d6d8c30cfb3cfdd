"""ECS JSON <-> frozen dataclasses, driven by the dataclasses' own type hints.

The model classes are the schema: a member's JSON name is its field name in camelCase (or
``metadata["json"]``), its type is its annotation, and ``metadata["required"]`` marks members the
ECS API model requires. ``decode`` walks a JSON document against that schema and reports *every*
structural problem with its ECS path (``containerDefinitions[1].portMappings[0].hostPort``):

* an unknown member, worded as botocore words it (``Unknown parameter in containerDefinitions[0]:
  "foo", must be one of: ...``);
* a missing required member (``Missing required parameter in ...``);
* a wrong JSON type (``Invalid type for parameter ...``; ``bool`` is never an ``int``);
* a value outside an enum, worded as the AWS service-side validator words it (``Value 'x' at 'path'
  failed to satisfy constraint: Member must satisfy enum value set: [...]``). A caller may narrow an
  enum to the values its document allows (``narrowed``), so two ECS shapes that differ only in which
  values an enum takes can be one model class.

Supported annotations: ``str``, ``int``, ``bool``, a ``StrEnum``, a nested dataclass,
``tuple[X, ...]``, ``Mapping[str, str]`` (a string map), ``Mapping[str, Any]`` (an opaque JSON
object kept and echoed as is), and ``X | None``.

Design decision: a problem never stops the walk; the bad member falls back to its default so the
rest of the document is still checked. Callers must not run semantic rules on a document that had
structural problems (the values there are stand-ins), which is also how the ECS API behaves:
serialization errors come before validation. ``encode`` is the inverse and omits members that are
None or empty, so ``decode(encode(x)) == x`` for every decoded ``x``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from minecs.errors import FieldProblem

T = TypeVar("T")

REQUIRED: Mapping[str, Any] = {"required": True}
StringMap = Mapping[str, str]
"""A member holding a string map (``dockerLabels``, ``options``, ...)."""


def required(default: Any = "") -> Any:
    """A dataclass field for a member the ECS API model requires; ``default`` is the stand-in a bad
    document decodes to."""
    return dataclasses.field(default=default, metadata=REQUIRED)


_PY_TYPE_NAMES = {str: "<class 'str'>", int: "<class 'int'>", bool: "<class 'bool'>"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclasses.dataclass(frozen=True, slots=True)
class Member:
    attr: str
    json: str
    hint: Any
    required: bool
    units: bool


_MEMBERS: dict[type[Any], tuple[Member, ...]] = {}


def members(cls: type[Any]) -> tuple[Member, ...]:
    """The JSON members of a model class, in declaration order (computed once per class)."""
    cached = _MEMBERS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    _MEMBERS[cls] = found = tuple(
        Member(
            attr=f.name,
            json=f.metadata.get("json", camel(f.name)),
            hint=hints[f.name],
            required=bool(f.metadata.get("required")),
            units=bool(f.metadata.get("units")),
        )
        for f in dataclasses.fields(cls)
        if not f.metadata.get("internal")
    )
    return found


def json_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(m.json for m in members(cls))


def join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


class Decoder:
    """One decode pass; ``problems`` collects everything wrong, tagged with ``source``; ``narrowed``
    maps an enum to the only values of it this document may hold."""

    def __init__(
        self, source: str = "", narrowed: Mapping[type[StrEnum], tuple[StrEnum, ...]] | None = None
    ) -> None:
        self.source = source
        self.narrowed: Mapping[type[StrEnum], tuple[StrEnum, ...]] = narrowed or {}
        self.problems: list[FieldProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(FieldProblem(path, message, "ClientException", self.source))

    def decode(self, cls: type[T], data: Any, path: str = "") -> T:
        """Decode ``data`` into ``cls``; returns a best-effort object even when problems were found."""
        if not isinstance(data, Mapping):
            self._wrong_type(path, data, dict)
            return cls()
        known = members(cls)
        names = _json_name_set(cls)
        for key in data:
            if key not in names:
                where = path or "input"
                self.problem(
                    join(path, str(key)),
                    f'Unknown parameter in {where}: "{key}", must be one of: '
                    + ", ".join(m.json for m in known),
                )
        values: dict[str, Any] = {}
        for m in known:
            if m.json not in data or data[m.json] is None:
                if m.required:
                    where = path or "input"
                    self.problem(join(path, m.json), f'Missing required parameter in {where}: "{m.json}"')
                continue
            raw = data[m.json]
            if m.units and isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)
            value = self.value(m.hint, raw, join(path, m.json))
            if value is not _BAD:
                values[m.attr] = value
        return cls(**values)

    def value(self, hint: Any, data: Any, path: str) -> Any:
        kind, arg = _plan(hint)
        if kind == "dataclass":
            return self.decode(arg, data, path)
        if kind == "tuple":
            return self._sequence(arg, data, path)
        if kind == "mapping":
            return self._mapping(arg, data, path)
        if kind == "enum":
            return self._enum(arg, data, path)
        return self._scalar(arg, data, path)

    def _sequence(self, item: Any, data: Any, path: str) -> Any:
        if not isinstance(data, list):
            self._wrong_type(path, data, list)
            return _BAD
        decoded = [self.value(item, x, f"{path}[{i}]") for i, x in enumerate(data)]
        return tuple(x for x in decoded if x is not _BAD)

    def _mapping(self, args: tuple[Any, ...], data: Any, path: str) -> Any:
        if not isinstance(data, Mapping):
            self._wrong_type(path, data, dict)
            return _BAD
        if args and args[1] is Any:
            return dict(data)
        result = {}
        for key, value in data.items():
            if not isinstance(value, str):
                self._wrong_type(f"{path}.{key}", value, str)
                continue
            result[str(key)] = value
        return result

    def _enum(self, enum: type[StrEnum], data: Any, path: str) -> Any:
        allowed = [e.value for e in self.narrowed.get(enum, enum)]
        if not isinstance(data, str) or data not in allowed:
            self.problem(
                path,
                f"Value '{data}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(allowed)}]",
            )
            return _BAD
        return enum(data)

    def _scalar(self, hint: Any, data: Any, path: str) -> Any:
        # JSON booleans are Python ints; ECS never accepts true for a number.
        ok = isinstance(data, hint) and not (hint is int and isinstance(data, bool))
        if not ok:
            self._wrong_type(path, data, hint)
            return _BAD
        return data

    def _wrong_type(self, path: str, data: Any, expected: type[Any]) -> None:
        shown = "" if isinstance(data, Mapping | list) else f"value: {data}, "
        valid = _PY_TYPE_NAMES.get(expected, f"<class '{expected.__name__}'>")
        self.problem(
            path,
            f"Invalid type for parameter {path or 'input'}, {shown}type: {type(data)}, valid types: {valid}",
        )


_BAD: Any = object()
_PLANS: dict[Any, tuple[str, Any]] = {}
_NAME_SETS: dict[type[Any], frozenset[str]] = {}


def _plan(hint: Any) -> tuple[str, Any]:
    """How to decode a value of ``hint`` (what kind, with what argument), worked out once per hint:
    asking typing and dataclasses again for every member of every request was most of decoding."""
    found = _PLANS.get(hint)
    if found is not None:
        return found
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        found = _plan(next(a for a in typing.get_args(hint) if a is not type(None)))
    elif dataclasses.is_dataclass(hint):
        found = ("dataclass", hint)
    elif origin is tuple:
        found = ("tuple", typing.get_args(hint)[0])
    elif origin is Mapping or hint is Mapping:
        found = ("mapping", typing.get_args(hint))
    elif isinstance(hint, type) and issubclass(hint, StrEnum):
        found = ("enum", hint)
    else:
        found = ("scalar", hint)
    _PLANS[hint] = found
    return found


def _json_name_set(cls: type[Any]) -> frozenset[str]:
    found = _NAME_SETS.get(cls)
    if found is None:
        found = _NAME_SETS[cls] = frozenset(json_names(cls))
    return found


_PLAIN = frozenset((str, int, float, bool, type(None)))
_CONTAINERS = frozenset((tuple, list, dict))


def encode(obj: Any) -> Any:
    """The ECS JSON for a model object (members that are None or empty are left out)."""
    # Plain values first, by exact type (a StrEnum is a str subclass, so it goes on): they are most
    # of a definition's leaves, and the checks below cost more than the answer.
    if type(obj) in _PLAIN:
        return obj
    if hasattr(type(obj), "__dataclass_fields__"):
        out: dict[str, Any] = {}
        for m in members(type(obj)):
            value = getattr(obj, m.attr)
            if type(value) not in _PLAIN:
                if not value and type(value) in _CONTAINERS:
                    continue
                value = encode(value)
                if isinstance(value, list | dict) and not value:
                    continue
            elif value is None:
                continue
            out[m.json] = value
        return out
    if isinstance(obj, StrEnum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [encode(x) for x in obj]
    if isinstance(obj, Mapping):
        return {k: encode(v) for k, v in obj.items()}
    return obj
