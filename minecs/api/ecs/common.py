"""What every ECS operation handler shares: the registry, references, pagination, failures.

An operation is ``async def op(ctx, body) -> dict`` registered under its ECS name with
``@operation("RunTask")``; ``read_only`` marks the ones that change nothing (they do not wake the
reconciler). Members are read through ``minecs.api.members``. Handlers call the same service layer
as the native API (``ctx.plane``) and return the ECS response shape; the front end then shapes
the answer once, by ECS's model (``shaping``), which leaves out the service layer's bookkeeping.
Tags are the one member the model has that an answer may still leave out (``include: TAGS``):
``tagged`` is that rule.

Pagination is keyset pagination: ``nextToken`` is an opaque, url-safe encoding of the *position*
of the last item returned (its sort key), and the next page starts strictly after it, so a page
costs what it returns where the store can seek (task definitions, families), and an item created
or deleted between pages neither repeats nor hides another. ``maxResults`` is 1..100 (default 100),
as ECS's list calls take it; a token that is not one of ours is ``InvalidParameterException``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from minecs.api.members import member, str_list
from minecs.controlplane.clusters import Failure
from minecs.controlplane.plane import ControlPlane
from minecs.errors import InvalidParameterError
from minecs.store import Stored

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
    """One page of ``items`` (sorted, each its own sort key, a JSON value), past the token's position."""
    after = position(body)
    try:
        start = bisect.bisect_right(items, after) if after is not None else 0
    except TypeError as exc:  # a position of another list's kind
        raise InvalidParameterError("The nextToken is not valid.") from exc
    end = start + limit(body)
    return paged(list(items[start:end]), member_name, items[end - 1] if end < len(items) else None)


def limit(body: Mapping[str, Any]) -> int:
    found = member(body, "maxResults", int)
    if found is not None and not 1 <= found <= 100:
        raise InvalidParameterError("maxResults must be between 1 and 100.")
    return found or 100


def position(body: Mapping[str, Any]) -> Any:
    """The position a request's ``nextToken`` names (None when it has none)."""
    token = member(body, "nextToken", str)
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = None
    if not isinstance(decoded, dict) or "after" not in decoded or decoded["after"] is None:
        raise InvalidParameterError("The nextToken is not valid.")
    return decoded["after"]


def paged(items: list[Any], member_name: str, last: Any) -> Body:
    """The answer: ``items``, and a ``nextToken`` after ``last`` when there is more to list."""
    out: Body = {member_name: items}
    if last is not None:
        out["nextToken"] = base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode()
    return out


SCAN_BUDGET = 1000
"""Stored objects one filtered list call reads at most: past that the page comes back short, with a
``nextToken``, as ECS's pages may; so a call costs what it looks at, never the whole cluster."""

Scan = Callable[[str | None, int], Awaitable[Sequence[Stored]]]
"""Up to N stored objects strictly after a key, in key order (``Store.scan`` of one cluster)."""


async def scanned(
    scan: Scan, keep: Callable[[Mapping[str, Any]], str | None], body: Body, member_name: str
) -> Body:
    """One page of what ``keep`` answers (an ARN, or None to leave an object out) over ``scan``."""
    wanted = limit(body)
    after = position(body)
    if after is not None and not isinstance(after, str):
        raise InvalidParameterError("The nextToken is not valid.")
    found: list[str] = []
    read = 0
    while read < SCAN_BUDGET:
        chunk = min(wanted + 1, SCAN_BUDGET - read)
        rows = await scan(after, chunk)
        for row in rows:
            if len(found) == wanted:
                return paged(found, member_name, after)  # this row is more to list
            after, read = row.key, read + 1
            item = keep(row.body)
            if item is not None:
                found.append(item)
        if len(rows) < chunk:
            return paged(found, member_name, None)
    return paged(found, member_name, after)


def failures(found: Sequence[Failure]) -> list[Body]:
    return [{"arn": f.arn, "reason": f.reason} for f in found]


def tagged(found: Mapping[str, Any], tags: bool) -> dict[str, Any]:
    """``found`` as shown: with its ``tags`` only when the caller asked for them (``include: TAGS``)."""
    return dict(found) if tags else {k: v for k, v in found.items() if k != "tags"}
