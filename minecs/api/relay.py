"""Requests the controller hands to an agent through its long poll, and the agent answers by dialling in.

The controller never calls an agent (the protocol is pull-based, so edge hosts may sit behind NAT).
Logs and exec both need the agent to open a connection for one caller, so both use a ``Relay``: the
caller's handler files a ``Pending`` request for the task's instance and bumps that instance's
assignment version; the poll answer lists the instance's open requests (``waiting_for``); the
agent dials ``.../logs/{id}`` or ``.../exec/{id}`` and its handler ``attach``es what it brought (the
upload's body, or its WebSocket), which wakes the caller's handler. When either side is done the
caller's handler ``close``s the request, which lets the agent's handler return. Requests live in
memory only; a controller restart ends open streams, as it ends any HTTP connection.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import StreamReader

from minecs.errors import AgentUnavailableError, NotFoundError

ATTACH_WITHIN = 15.0
"""How long a caller waits for the agent to pick the request up (one long-poll round trip)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Upload:
    """What a log upload brings: the streamed body, or why there is none."""

    reader: StreamReader | None
    error: str | None = None


@dataclass
class Pending(Generic[T]):
    instance_id: str
    wire: dict[str, Any]
    """The request as the agent sees it in its poll answer (without ``id``)."""
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    attached: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class Relay(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what
        self._open: dict[str, Pending[T]] = {}

    def open(self, instance_id: str, wire: dict[str, Any]) -> Pending[T]:
        pending: Pending[T] = Pending(instance_id, wire)
        self._open[pending.id] = pending
        return pending

    def waiting_for(self, instance_id: str) -> list[dict[str, Any]]:
        """The instance's requests that the agent has not answered yet (listed in its poll answers)."""
        return [
            {"id": p.id, **p.wire}
            for p in self._open.values()
            if p.instance_id == instance_id and not p.attached.done()
        ]

    def attach(self, instance_id: str, request_id: str, value: T) -> Pending[T]:
        pending = self._open.get(request_id)
        if pending is None or pending.instance_id != instance_id or pending.attached.done():
            raise NotFoundError(
                f"No open {self.what} request {request_id} for this instance.", code="ClientException"
            )
        pending.attached.set_result(value)
        return pending

    async def attached(self, pending: Pending[T]) -> T:
        """What the agent brought; ``AgentUnavailableError`` when it has not come within ATTACH_WITHIN."""
        try:
            return await asyncio.wait_for(asyncio.shield(pending.attached), ATTACH_WITHIN)
        except TimeoutError as exc:
            raise AgentUnavailableError(
                f"The agent of container instance {pending.instance_id} did not answer within "
                f"{ATTACH_WITHIN:.0f} s."
            ) from exc

    def close(self, pending: Pending[T]) -> None:
        pending.finished.set()
        if not pending.attached.done():
            pending.attached.cancel()
        self._open.pop(pending.id, None)
