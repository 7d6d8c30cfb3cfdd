"""Container instances: token registration, same instance on re-registration, derived connectivity."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minecs.controlplane.instances import Instances, Registration, resource
from minecs.controlplane.taskdefs import Identity
from minecs.errors import AccessDeniedError, UnauthenticatedError
from minecs.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


REG = Registration(
    cluster="default",
    cpu=2048,
    memory=3900,
    reserved_ports=(22, 51678),
    agent_version="0.1.0",
    docker_version="20.10.24",
    attributes={"ecs.os-type": "linux", "ecs.capability.task-eni": ""},
)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Instances, Clock]]:
    store = await SqliteStore.open(tmp_path / "db")
    clock = Clock()
    yield (
        Instances(
            store, Identity("us-east-1", "123456789012"), agent_timeout=timedelta(seconds=60), clock=clock
        ),
        clock,
    )
    await store.close()


async def test_register_with_a_token_then_again_with_the_credential_keeps_the_instance(
    setup: tuple[Instances, Clock],
) -> None:
    instances, clock = setup
    token = await instances.tokens.create(now=clock.now)
    first = await instances.register(REG, token=token)
    assert first.credential is not None
    body = first.instance
    assert (
        body["containerInstanceArn"]
        == f"arn:aws:ecs:us-east-1:123456789012:container-instance/default/{body['instanceId']}"
    )
    assert (resource(body, "CPU"), resource(body, "MEMORY")) == (2048, 3900)
    assert body["agentConnected"] is True
    assert {"name": "ecs.os-type", "value": "linux"} in body["attributes"]
    again = await instances.register(
        dataclasses.replace(REG, agent_version="0.2.0"),
        instance_id=body["instanceId"],
        secret=first.credential,
    )
    assert again.credential is None
    assert again.instance["instanceId"] == body["instanceId"]
    assert again.instance["versionInfo"]["agentVersion"] == "0.2.0"
    with pytest.raises(AccessDeniedError):
        await instances.register(REG, token=token)  # the token was for one use
    with pytest.raises(UnauthenticatedError):
        await instances.register(REG, instance_id=body["instanceId"], secret="guess")
    with pytest.raises(UnauthenticatedError):
        await instances.register(REG)


async def test_agent_connected_is_derived_from_the_last_contact(setup: tuple[Instances, Clock]) -> None:
    instances, clock = setup
    registered = await instances.register(REG, token=await instances.tokens.create(now=clock.now))
    instance_id = registered.instance["instanceId"]
    clock.now += timedelta(seconds=61)
    assert (await instances.get(instance_id))["agentConnected"] is False
    await instances.touch(instance_id)
    assert (await instances.get(instance_id))["agentConnected"] is True
    assert [i["instanceId"] for i in await instances.in_cluster("default")] == [instance_id]
