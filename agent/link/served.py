"""Requests the controller lists in poll answers (logs, exec), each served once in a supervised task.

Poll answers repeat a request until the agent has dialled in for it, so each id is remembered (the
last ``REMEMBERED``) and served once. Every request runs in its own task; a failure is logged, never
raised into the poll loop, and ``close`` cancels what still runs (docs/protocol.md, "Logs", "Exec").
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from typing import Any

from agent.tasks.engine import Engine
from minecs.aiotasks import RootOutcome, guard
from minecs.errors import MinecsError

REMEMBERED = 256


class Served:
    kind = "request"

    def __init__(self) -> None:
        self._running: set[asyncio.Task[RootOutcome]] = set()
        self._seen: deque[str] = deque(maxlen=REMEMBERED)

    def serve(self, requests: list[dict[str, Any]]) -> None:
        """Start serving every request not seen before."""
        for request in requests:
            if request["id"] in self._seen:
                continue
            self._seen.append(request["id"])
            name = f"{self.kind} {request['id']}"
            task = asyncio.create_task(guard(name, functools.partial(self._serve, request)), name=name)
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(self, request: dict[str, Any]) -> None:
        raise NotImplementedError


def container_of(engine: Engine, task_arn: str, name: str) -> str:
    """The runtime id of a container of a task this agent runs; a ``MinecsError`` saying why not."""
    snapshot = engine.snapshot(task_arn)
    found = [c for c in snapshot.containers if c.name == name] if snapshot else []
    if not found:
        raise MinecsError(f"Container {name} of this task is not known to the agent on this instance.")
    if found[0].runtime_id is None:
        raise MinecsError(f"Container {name} has not been created yet.")
    return found[0].runtime_id
