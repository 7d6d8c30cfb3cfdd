"""Talking to the controller's app over in-process HTTP as the admin and as a hand-written agent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import taskdef

AUTH = {"Authorization": "MinecsAdmin AKTEST:secret"}
Client = TestClient[Any, Any]


async def agent(client: Client, plane: ControlPlane) -> dict[str, str]:
    """Register an instance over HTTP, as an agent does; returns its id and auth header."""
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    response = await client.post(
        "/agent/v1/register",
        json={"cluster": "default", "resources": {"cpu": 2048, "memory": 2048}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = await response.json()
    return {
        "id": body["instanceId"],
        "Authorization": f"MinecsAgent {body['instanceId']}:{body['credential']}",
    }


async def run(client: Client, *containers: dict[str, Any]) -> str:
    await client.post("/v1/taskdefinitions", json=taskdef(*containers), headers=AUTH)
    ran = await (await client.post("/v1/tasks", json={"taskDefinition": "web"}, headers=AUTH)).json()
    return str(ran["tasks"][0]["taskArn"].rsplit("/", 1)[-1])


async def error_of(response: Any) -> tuple[int, str, str]:
    body = await response.json()
    return response.status, body["code"], body["message"]


async def next_request(client: Client, me: dict[str, str], member: str) -> dict[str, Any]:
    """The first request listed under ``member`` (``logRequests``, ``execRequests``) in ``me``'s polls."""
    async with asyncio.timeout(10):
        while True:
            poll = await client.get(
                f"/agent/v1/instances/{me['id']}/assignments?since=0&wait=0.1",
                headers={"Authorization": me["Authorization"]},
            )
            requests = (await poll.json())[member]
            if requests:
                return dict(requests[0])
