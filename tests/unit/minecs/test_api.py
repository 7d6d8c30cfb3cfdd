"""The HTTP front ends on a real store and a real (in-process) server: shapes, auth and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minecs.api.app import build_app
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from tests.taskdefs import container, taskdef

ADMIN = AdminCredential("AKTEST", "secret")
AUTH = {"Authorization": "MinecsAdmin AKTEST:secret"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    plane = await ControlPlane.open(tmp_path, Identity())
    async with TestClient(TestServer(build_app(plane, ADMIN, poll_wait=0.2))) as test_client:
        yield test_client
    await plane.close()


async def test_health_needs_no_credential(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"ok": True})


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "{"])
async def test_malformed_bodies_are_400_client_exceptions(client: TestClient[Any, Any], body: str) -> None:
    response = await client.post("/v1/taskdefinitions", data=body, headers=AUTH)
    payload = await response.json()
    assert response.status == 400
    assert payload["code"] == "ClientException"


async def test_validation_errors_carry_every_problem_with_its_path(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/v1/taskdefinitions",
        json={"family": "f", "containerDefinitions": [{"name": "a", "bogus": 1}]},
        headers=AUTH,
    )
    payload = await response.json()
    assert response.status == 400
    # The unknown member comes first (its message is botocore's); the rules still run, so the
    # image the container lacks is reported in the same answer.
    paths = [p["path"] for p in payload["problems"]]
    assert paths[0] == "containerDefinitions[0].bogus"
    assert "containerDefinitions[0].image" in paths


async def test_register_then_run_without_instances_leaves_the_task_pending(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.post("/v1/taskdefinitions", json=taskdef(container()), headers=AUTH)).status == 200
    response = await client.post("/v1/tasks", json={"taskDefinition": "web", "count": 2}, headers=AUTH)
    tasks = (await response.json())["tasks"]
    assert [t["lastStatus"] for t in tasks] == ["PENDING", "PENDING"]
    assert tasks[0]["placementReason"] == "No Container Instances were found in your cluster."
    assert "reserved" not in tasks[0]
    listed = await (await client.get("/v1/tasks", headers=AUTH)).json()
    assert len(listed["tasks"]) == 2


async def test_agent_calls_without_a_credential_are_401(client: TestClient[Any, Any]) -> None:
    for path in ("/agent/v1/instances/x/assignments", "/agent/v1/instances/x/heartbeat"):
        response = await (client.get(path) if "assignments" in path else client.post(path, json={}))
        assert response.status == 401
    response = await client.post(
        "/agent/v1/register", json={"resources": {"cpu": 1}}, headers={"Authorization": "Bearer x"}
    )
    assert (response.status, (await response.json())["code"]) == (403, "AccessDeniedException")


async def test_a_malformed_registration_is_400_and_does_not_spend_the_token(tmp_path: Path) -> None:
    plane = await ControlPlane.open(tmp_path, Identity())
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        async with TestClient(TestServer(build_app(plane, ADMIN))) as client:
            bad = await client.post("/agent/v1/register", json={"resources": {"cpu": 1}}, headers=bearer)
            assert (bad.status, (await bad.json())["code"]) == (400, "ClientException")
            good = {"resources": {"cpu": 1024, "memory": 512}}
            assert (await client.post("/agent/v1/register", json=good, headers=bearer)).status == 200
    finally:
        await plane.close()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/v1/taskdefinitions", "/v1/tasks", "/v1/tokens", "/agent/v1/register"]),
    body=json_values,
)
async def test_no_body_makes_the_server_answer_500(
    client: TestClient[Any, Any], path: str, body: Any
) -> None:
    headers = {"Authorization": "Bearer nothing"} if path.startswith("/agent") else AUTH
    response = await client.post(path, json=body, headers=headers)
    assert response.status < 500, await response.text()


async def test_successful_writes_wake_the_reconciler_and_reads_or_failures_do_not(tmp_path: Path) -> None:
    plane = await ControlPlane.open(tmp_path, Identity())
    wake = asyncio.Event()
    try:
        async with TestClient(TestServer(build_app(plane, ADMIN, wake=wake))) as client:
            await client.get("/v1/tasks", headers=AUTH)
            await client.post("/v1/taskdefinitions", json={"family": "x"}, headers=AUTH)  # invalid
            assert not wake.is_set()
            assert (
                await client.post("/v1/taskdefinitions", json=taskdef(container()), headers=AUTH)
            ).status == 200
            assert wake.is_set()
    finally:
        await plane.close()
