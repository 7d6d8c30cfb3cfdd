"""Fixtures for engine tests: a real engine on the real Docker driver, and task builders."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.provision.resources import InstanceFacts
from agent.runtime.docker import DockerDriver
from agent.tasks.engine import Engine
from minecs.model.registered import register, task_definition_arn
from minecs.model.task import TaskAssignment, TaskSnapshot
from minecs.settings import EngineSettings, ProvisionSettings, PullBehavior
from minecs.validation import parse_task_definition
from tests.conftest import LOOPBACK, TEST_IMAGE, TEST_LABELS

# Exits promptly (143) on SIGTERM; sleep as PID 1 would ignore it and wait for SIGKILL.
SERVICE = ["sh", "-c", "trap 'exit 143' TERM; sleep 600 & wait"]


def container(name: str, **members: Any) -> dict[str, Any]:
    return {"name": name, "image": TEST_IMAGE, "memory": 32, "command": SERVICE, "stopTimeout": 2, **members}


def assignment(*containers: dict[str, Any], **task: Any) -> TaskAssignment:
    family = task.pop("family", "it")
    spec = parse_task_definition({"family": family, "containerDefinitions": list(containers), **task})
    td = register(
        spec,
        arn=task_definition_arn("us-east-1", "000000000000", family, 1),
        revision=1,
        registered_at=datetime.now(UTC),
    )
    task_id = secrets.token_hex(16)
    return TaskAssignment(
        task_arn=f"arn:aws:ecs:us-east-1:000000000000:task/default/{task_id}",
        cluster="default",
        definition=td,
    )


@pytest.fixture
def engine_settings() -> EngineSettings:
    return EngineSettings(
        dependency_wait_timeout=60,
        resync_interval=5,
        pull_behavior=PullBehavior.PREFER_CACHED,
        provision=ProvisionSettings(default_stop_timeout=5),
    )


@pytest.fixture
def instance_facts() -> InstanceFacts:
    return InstanceFacts(f"it-{secrets.token_hex(4)}", LOOPBACK, TEST_LABELS)


@pytest.fixture
async def engine(
    docker_driver: DockerDriver, engine_settings: EngineSettings, instance_facts: InstanceFacts
) -> AsyncIterator[Engine]:
    engine = Engine(docker_driver, engine_settings, instance_facts)
    async with engine.running():
        yield engine


def rid(snapshot: TaskSnapshot, name: str) -> str:
    """The Docker id of a container that the engine created (fails the test if it has none)."""
    runtime_id = snapshot.container(name).runtime_id
    assert runtime_id is not None, f"{name} was never created: {snapshot.container(name)}"
    return runtime_id
