"""What every ECS operation handler shares: the registry, references, pagination, failures.

An operation is ``async def op(ctx, body) -> dict`` registered under its ECS name with
``@operation("RunTask")``; ``read_only`` marks the ones that change nothing (they do not wake the
reconciler). Members are read through ``minecs.api.members``. Handlers call the same service layer
as the native API (``ctx.plane``) and return the ECS response shape; the service layer's
bookkeeping members are stripped in ``minecs.api.shapes``.

Pagination: ``nextToken`` is an opaque, url-safe encoding of the offset into the (stably sorted)
full result; ``maxResults`` is 1..100 (default 100), as ECS's list calls take it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from minecs.api.members import member, str_list
from minecs.controlplane.clusters import Failure
from minecs.controlplane.plane import ControlPlane
from minecs.errors import InvalidParameterError

T = TypeVar("T")
Body = dict[str, Any]


@dataclass(frozen=True)
class Context:
    plane: ControlPlane
    region: str
    endpoint: str


Handler = Callable[[Context, Body], Awaitable[Body]]


@dataclass(frozen=True)
class Operation:
    handler: Handler
    read_only: bool


TARGET = "AmazonEC2ContainerServiceV20141113."
"""The ``X-Amz-Target`` prefix of every ECS operation."""


def operation_name(target: str) -> str:
    """The operation an ``X-Amz-Target`` header names; "" when it is not an ECS target."""
    return target[len(TARGET) :] if target.startswith(TARGET) else ""


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, *, read_only: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = Operation(handler, read_only)
        return handler

    return register


# ---------------------------------------------------------------------------- members


def references(body: Mapping[str, Any], name: str, *, most: int, required: bool = True) -> list[str]:
    """A call's list of names or ARNs, at most ``most`` of them (ECS's limits)."""
    found = str_list(body, name, required=required)
    if len(found) > most:
        raise InvalidParameterError(f"{name} can have at most {most} items.")
    return found


def short_id(reference: str) -> str:
    """The last path part of an ARN (``.../task/cluster/<id>``), or the reference itself."""
    return reference.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------- pagination


def page(items: Sequence[T], body: Mapping[str, Any], member_name: str) -> Body:
    limit = member(body, "maxResults", int)
    if limit is not None and not 1 <= limit <= 100:
        raise InvalidParameterError("maxResults must be between 1 and 100.")
    start = _offset(member(body, "nextToken", str))
    end = start + (limit or 100)
    out: Body = {member_name: list(items[start:end])}
    if end < len(items):
        out["nextToken"] = base64.urlsafe_b64encode(f"minecs:{end}".encode()).decode()
    return out


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix == "minecs" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidParameterError("The nextToken is not valid.")


def failures(found: Sequence[Failure]) -> list[Body]:
    return [{"arn": f.arn, "reason": f.reason} for f in found]
