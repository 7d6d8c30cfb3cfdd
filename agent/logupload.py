"""Answer the controller's log requests (docs/protocol.md, "Logs"): stream a container's output up.

Each request listed in a poll answer is served once, in its own task that this class supervises:
the container is looked up in the engine's snapshot of the task (an agent serves only containers of
tasks it runs), then its output is POSTed as a streamed body until it ends, or until the controller
answers because the caller went away. Failures are logged, never raised into the poll loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from agent.client import ControllerClient, Identity
from agent.engine import Engine
from minecs.errors import ContainerNotFoundError, MinecsError
from minecs.logs import get_logger

log = get_logger(__name__)
REMEMBERED = 256


class LogUploads:
    def __init__(self, client: ControllerClient, identity: Identity, engine: Engine) -> None:
        self.client, self.identity, self.engine = client, identity, engine
        self._running: set[asyncio.Task[None]] = set()
        self._seen: deque[str] = deque(maxlen=REMEMBERED)

    def serve(self, requests: list[dict[str, Any]]) -> None:
        """Start serving every request not seen before (poll answers repeat them until answered)."""
        for request in requests:
            if request["id"] in self._seen:
                continue
            self._seen.append(request["id"])
            task = asyncio.get_running_loop().create_task(self._serve(request), name=f"logs {request['id']}")
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("log upload failed", task=task.get_name(), error=repr(task.exception()))

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(self, request: dict[str, Any]) -> None:
        try:
            chunks = await self._source(request)
        except MinecsError as exc:
            await self.client.upload_logs(self.identity, request["id"], error=exc.message)
            return
        await self.client.upload_logs(self.identity, request["id"], chunks=chunks)

    async def _source(self, request: dict[str, Any]) -> AsyncIterator[bytes]:
        snapshot = self.engine.snapshot(request["taskArn"])
        name = request["container"]
        found = [c for c in snapshot.containers if c.name == name] if snapshot else []
        if not found:
            raise MinecsError(f"Container {name} of this task is not known to the agent on this instance.")
        runtime_id = found[0].runtime_id
        if runtime_id is None:
            raise MinecsError(f"Container {name} has not been created yet; it has no logs.")
        driver, tail = self.engine.driver, request.get("tail")
        try:
            await driver.inspect(runtime_id)
        except ContainerNotFoundError as exc:
            raise MinecsError(f"Container {name} was removed from this host; its logs are gone.") from exc
        if request.get("follow"):
            return driver.follow_logs(runtime_id, tail=tail)
        return _once("".join(f"{line}\n" for line in await driver.logs(runtime_id, tail=tail)).encode())


async def _once(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data
