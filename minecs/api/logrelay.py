"""Task logs through the agent: the controller relays, the agent uploads (docs/protocol.md, "Logs").

The controller never calls an agent (the protocol is pull-based, so edge hosts may sit behind NAT).
``GET /v1/tasks/{id}/logs`` files a ``LogRequest`` for the task's instance and wakes that instance's
long poll, whose answer lists the open requests; the agent POSTs the container's output to
``/agent/v1/instances/{id}/logs/{request}`` as a streamed body, and the controller copies it into the
caller's response as it arrives. When either side goes away the other is let go: the caller's
response ends with the upload, and the upload is answered (so the agent stops reading) when the
caller disconnects. Requests live in memory only; a controller restart ends open streams, as it
ends any HTTP connection.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import StreamReader

from minecs.errors import NotFoundError

ATTACH_WITHIN = 15.0
"""How long a caller waits for the agent to pick the request up (one long-poll round trip)."""


@dataclass(frozen=True)
class Upload:
    reader: StreamReader | None
    error: str | None = None


@dataclass
class LogRequest:
    instance_id: str
    task_arn: str
    container: str
    follow: bool
    tail: int | None
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    attached: asyncio.Future[Upload] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taskArn": self.task_arn,
            "container": self.container,
            "follow": self.follow,
            "tail": self.tail,
        }


class LogRelay:
    def __init__(self) -> None:
        self._open: dict[str, LogRequest] = {}

    def open(
        self, instance_id: str, task_arn: str, container: str, *, follow: bool, tail: int | None
    ) -> LogRequest:
        request = LogRequest(instance_id, task_arn, container, follow, tail)
        self._open[request.id] = request
        return request

    def waiting_for(self, instance_id: str) -> list[dict[str, Any]]:
        """The instance's requests that no upload has answered yet (listed in its poll answers)."""
        return [
            r.wire() for r in self._open.values() if r.instance_id == instance_id and not r.attached.done()
        ]

    def attach(self, instance_id: str, request_id: str, upload: Upload) -> LogRequest:
        request = self._open.get(request_id)
        if request is None or request.instance_id != instance_id or request.attached.done():
            raise NotFoundError(
                f"No open log request {request_id} for this instance.", code="ClientException"
            )
        request.attached.set_result(upload)
        return request

    def close(self, request: LogRequest) -> None:
        request.finished.set()
        if not request.attached.done():
            request.attached.cancel()
        self._open.pop(request.id, None)
