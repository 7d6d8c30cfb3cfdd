"""Answer the controller's log requests (docs/protocol.md, "Logs"): stream a container's output up.

The container is looked up in the engine's snapshot of the task (an agent serves only containers of
tasks it runs), then its output is POSTed as a streamed body until it ends, or until the controller
answers because the caller went away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agent.link.client import ControllerClient, Identity
from agent.link.served import Served, container_of
from agent.tasks.engine import Engine
from minecs.errors import ContainerNotFoundError, MinecsError


class LogUploads(Served):
    kind = "logs"

    def __init__(self, client: ControllerClient, identity: Identity, engine: Engine) -> None:
        super().__init__()
        self.client, self.identity, self.engine = client, identity, engine

    async def _serve(self, request: dict[str, Any]) -> None:
        try:
            chunks = await self._source(request)
        except MinecsError as exc:
            await self.client.upload_logs(self.identity, request["id"], error=exc.message)
            return
        await self.client.upload_logs(self.identity, request["id"], chunks=chunks)

    async def _source(self, request: dict[str, Any]) -> AsyncIterator[bytes]:
        name = request["container"]
        runtime_id = container_of(self.engine, request["taskArn"], name)
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
