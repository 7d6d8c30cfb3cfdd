"""The exec relay over real in-process HTTP and WebSockets; a hand-written agent takes the other end."""

from __future__ import annotations

import aiohttp

from minecs.api.onhost import EXEC_NOT_ENABLED
from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.apiclient import AUTH, Client, agent, error_of, next_request


async def running_task(client: Client, plane: ControlPlane, me: dict[str, str], *, enabled: bool) -> str:
    """A task of ``web`` placed on ``me`` and reported RUNNING, with or without enableExecuteCommand."""
    await client.post("/v1/taskdefinitions", json=taskdef(container()), headers=AUTH)
    body = {"taskDefinition": "web", "enableExecuteCommand": enabled}
    (task,) = (await (await client.post("/v1/tasks", json=body, headers=AUTH)).json())["tasks"]
    assert task["enableExecuteCommand"] is enabled
    report = {
        "taskArn": task["taskArn"],
        "seq": 1,
        "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING",
        "healthStatus": "UNKNOWN",
        "containers": [
            {"name": "app", "lastStatus": "RUNNING", "desiredStatus": "RUNNING", "runtimeId": "abc"}
        ],
    }
    await plane.tasks.report(me["id"], report)
    return str(task["taskArn"]).rsplit("/", 1)[-1]


async def test_frames_are_relayed_both_ways_unchanged(client: Client, plane: ControlPlane) -> None:
    me = await agent(client, plane)
    task_id = await running_task(client, plane, me, enabled=True)
    path = f"/v1/tasks/{task_id}/exec?command=sh&command=-c&command=echo%20hi&tty=1"
    async with client.ws_connect(path, headers={**AUTH, "Minecs-User": "ana@laptop"}) as caller:
        request = await next_request(client, me, "execRequests")
        assert {k: request[k] for k in ("container", "command", "tty", "user", "principal")} == {
            "container": "app",
            "command": ["sh", "-c", "echo hi"],
            "tty": True,
            "user": "ana@laptop",
            "principal": "AKTEST",
        }
        agent_path = f"/agent/v1/instances/{me['id']}/exec/{request['id']}"
        async with client.ws_connect(agent_path, headers={"Authorization": me["Authorization"]}) as end:
            await caller.send_bytes(b"\x00typed")
            await caller.send_json({"resize": {"rows": 30, "cols": 100}})
            assert await end.receive_bytes(timeout=5) == b"\x00typed"
            assert await end.receive_json(timeout=5) == {"resize": {"rows": 30, "cols": 100}}
            await end.send_bytes(b"\x01hi\r\n")
            await end.send_json({"exit": 0})
            assert await caller.receive_bytes(timeout=5) == b"\x01hi\r\n"
            assert await caller.receive_json(timeout=5) == {"exit": 0}
        closing = await caller.receive(timeout=5)  # the agent left, so the controller closes the caller
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    again = await client.ws_connect(agent_path, headers={"Authorization": me["Authorization"]})
    assert (await again.receive_json(timeout=5))["error"].startswith("No open exec request")
    await again.close()


async def test_exec_is_refused_as_ecs_refuses_it(client: Client, plane: ControlPlane) -> None:
    me = await agent(client, plane)
    plain = await running_task(client, plane, me, enabled=False)
    refused = await client.get(f"/v1/tasks/{plain}/exec?command=sh", headers=AUTH)
    assert await error_of(refused) == (400, "InvalidParameterException", EXEC_NOT_ENABLED)
    assert refused.headers["Minecs-Error"] == f"InvalidParameterException: {EXEC_NOT_ENABLED}"
    enabled = await running_task(client, plane, me, enabled=True)
    no_command = await client.get(f"/v1/tasks/{enabled}/exec", headers=AUTH)
    assert await error_of(no_command) == (
        400,
        "ClientException",
        "command: is required (the program to run and its arguments).",
    )
    not_websocket = await client.get(f"/v1/tasks/{enabled}/exec?command=sh", headers=AUTH)
    assert (await error_of(not_websocket))[2] == "exec needs a WebSocket upgrade (minecs exec does it)."
    (pending,) = (
        await (await client.post("/v1/tasks", json={"taskDefinition": "web"}, headers=AUTH)).json()
    )["tasks"]
    pending_id = pending["taskArn"].rsplit("/", 1)[-1]
    early = await client.get(f"/v1/tasks/{pending_id}/exec?command=sh", headers=AUTH)
    assert (await error_of(early))[:2] == (400, "InvalidParameterException")
    assert "a command runs only in a RUNNING task." in (await error_of(early))[2]
    nobody = await client.get(f"/v1/tasks/{enabled}/exec?command=sh", headers={"Authorization": "x"})
    assert nobody.status == 401
    assert nobody.headers["Minecs-Error"] == "UnrecognizedClientException: Missing or wrong admin credential."
