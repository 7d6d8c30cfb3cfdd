"""Service routes and the log relay over real in-process HTTP; a hand-written agent answers the relay.

The ``plane`` and ``client`` fixtures are in ``conftest.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from minecs.api import relay
from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.apiclient import AUTH, Client, agent, error_of, next_request, run


async def test_update_delete_and_events_of_a_service(client: Client, plane: ControlPlane) -> None:
    await client.post("/v1/taskdefinitions", json=taskdef(container()), headers=AUTH)
    service = {"apiVersion": "minecs.dev/v1", "kind": "Service", "metadata": {"name": "web"}}
    service["spec"] = {"taskDefinition": "web", "desiredCount": 2}
    assert (await client.post("/v1/apply", json={"documents": [service]}, headers=AUTH)).status == 200
    bad = await client.patch("/v1/services/web", json={"desiredCount": "3"}, headers=AUTH)
    assert await error_of(bad) == (400, "ClientException", "desiredCount: expected int, got str.")
    scaled = await (await client.patch("/v1/services/web", json={"desiredCount": 3}, headers=AUTH)).json()
    assert scaled["service"]["desiredCount"] == 3
    refused = await client.delete("/v1/services/web", headers=AUTH)
    assert await error_of(refused) == (
        400,
        "InvalidParameterException",
        "The service cannot be stopped while it is scaled above 0.",
    )
    # No instance: the first task waits for capacity, and the service launches no more meanwhile.
    await plane.services.reconcile("default/web")
    await plane.services.reconcile("default/web")
    events = (await (await client.get("/v1/events", headers=AUTH)).json())["events"]
    service_events = [e for e in events if e["kind"] == "service"]
    assert service_events[0]["serviceName"] == "web"
    assert service_events[0]["message"].startswith(
        "(service web) was unable to place a task because no container instance met all of its requirements."
    )
    assert service_events[1]["message"].startswith("(service web) has started 1 tasks:")
    task_events = [e for e in events if e["kind"] == "task"]
    assert len(task_events) == 1  # its creation; it has not started (no instance)
    assert all(e["message"].endswith(" web:1 created.") and e["serviceName"] == "web" for e in task_events)
    deleted = await (await client.delete("/v1/services/web?force=true", headers=AUTH)).json()
    assert deleted["service"]["status"] == "DRAINING"
    await plane.services.reconcile("default/web")  # unplaced tasks stop at once, so it is gone
    listed = await (await client.get("/v1/services", headers=AUTH)).json()
    assert listed["services"] == []
    missing = await client.get("/v1/events?service=nope", headers=AUTH)
    assert (await error_of(missing))[:2] == (400, "ServiceNotFoundException")


async def test_logs_are_relayed_from_the_agent_as_it_streams_them(
    client: Client, plane: ControlPlane
) -> None:
    me = await agent(client, plane)
    task_id = await run(client, container())
    caller = asyncio.ensure_future(client.get(f"/v1/tasks/{task_id}/logs?follow=1&tail=10", headers=AUTH))
    request = await next_request(client, me, "logRequests")
    assert (request["container"], request["follow"], request["tail"]) == ("app", True, 10)

    async def output() -> AsyncIterator[bytes]:
        yield b"hello\n"
        await asyncio.sleep(0.1)
        yield b"world\n"

    upload = await client.post(
        f"/agent/v1/instances/{me['id']}/logs/{request['id']}",
        data=output(),
        headers={"Authorization": me["Authorization"]},
    )
    response = await caller
    assert (response.status, await response.text()) == (200, "hello\nworld\n")
    assert upload.status == 200
    again = await client.post(
        f"/agent/v1/instances/{me['id']}/logs/{request['id']}",
        data=b"",
        headers={"Authorization": me["Authorization"]},
    )
    assert again.status == 400  # answered once; a replay finds nothing (ECS-style 400)


async def test_the_agent_can_say_why_there_are_no_logs(client: Client, plane: ControlPlane) -> None:
    me = await agent(client, plane)
    task_id = await run(client, container())
    caller = asyncio.ensure_future(client.get(f"/v1/tasks/{task_id}/logs", headers=AUTH))
    request = await next_request(client, me, "logRequests")
    await client.post(
        f"/agent/v1/instances/{me['id']}/logs/{request['id']}",
        data=b"",
        headers={
            "Authorization": me["Authorization"],
            "Minecs-Log-Error": "Container app has not been created yet.",
        },
    )
    assert await error_of(await caller) == (400, "ClientException", "Container app has not been created yet.")


async def test_log_requests_that_cannot_be_relayed_are_clear_errors(
    client: Client, plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    unplaced = await run(client, container("app"), container("sidecar"))
    choose = await client.get(f"/v1/tasks/{unplaced}/logs", headers=AUTH)
    assert await error_of(choose) == (
        400,
        "ClientException",
        "container: the task has 2 containers; choose one of app, sidecar.",
    )
    nowhere = await client.get(f"/v1/tasks/{unplaced}/logs?container=app", headers=AUTH)
    assert (await error_of(nowhere))[
        2
    ] == "The task is not placed on a container instance yet; it has no logs."
    bad_tail = await client.get(f"/v1/tasks/{unplaced}/logs?container=app&tail=x", headers=AUTH)
    assert (await error_of(bad_tail))[2] == "tail: 'x' is not a number of lines."
    await agent(client, plane)
    placed = await run(client, container())
    monkeypatch.setattr(relay, "ATTACH_WITHIN", 0.3)
    silent = await client.get(f"/v1/tasks/{placed}/logs", headers=AUTH)
    status, code, message = await error_of(silent)
    assert (status, code) == (503, "ServerException")
    assert message.endswith("did not answer within 0 s.")
    other = await client.get(f"/v1/tasks/{placed}/logs", headers={"Authorization": "MinecsAdmin AKTEST:nope"})
    assert other.status == 401


async def test_when_the_caller_leaves_the_agent_upload_is_answered(
    client: Client, plane: ControlPlane
) -> None:
    """Ctrl-C on 'minecs logs -f': the controller answers the agent's endless upload, which then stops."""
    me = await agent(client, plane)
    task_id = await run(client, container())
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick\n"
                await asyncio.sleep(0.05)
        finally:
            closed.set()

    async def follow_one_chunk() -> bytes:
        response = await client.get(f"/v1/tasks/{task_id}/logs?follow=1", headers=AUTH)
        first = await response.content.readany()
        response.close()  # the caller goes away
        return first

    reading = asyncio.ensure_future(follow_one_chunk())
    request = await next_request(client, me, "logRequests")
    upload = asyncio.ensure_future(
        client.post(
            f"/agent/v1/instances/{me['id']}/logs/{request['id']}",
            data=endless(),
            headers={"Authorization": me["Authorization"]},
        )
    )
    async with asyncio.timeout(10):  # a hang guard, not a speed assertion
        assert await reading == b"tick\n"
        assert (await upload).status == 200
        await closed.wait()


async def test_every_route_refuses_missing_or_wrong_credentials(client: Client, plane: ControlPlane) -> None:
    """Done 8, enumerated from the router itself so a new route cannot slip through unguarded."""
    me = await agent(client, plane)
    other = await agent(client, plane)
    checked = 0
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or path in ("/healthz", "/metrics"):
            continue
        concrete = path.replace("{id}", me["id"]).replace("{name}", "x").replace("{reference}", "x")
        concrete = concrete.replace("{request}", "x")
        for auth in (None, "MinecsAdmin AKTEST:wrong", f"MinecsAgent {me['id']}:wrong", "Bearer used-up"):
            headers = {"Authorization": auth} if auth else {}
            response = await client.request(route.method, concrete, json={}, headers=headers)
            expected = 403 if path == "/agent/v1/register" and auth == "Bearer used-up" else 401
            if path == "/":
                expected = 403  # the ECS front end answers as AWS does: no valid SigV4 signature
            assert response.status == expected, (route.method, concrete, auth, response.status)
        if path.startswith("/agent/v1/instances/"):
            as_other = await client.request(
                route.method, concrete, json={}, headers={"Authorization": other["Authorization"]}
            )
            assert as_other.status == 403, (route.method, concrete)  # an agent acts only as itself
        checked += 1
    assert checked >= 25
