"""Image pull behaviour with no registry, task-level limits through the task cgroup, and cleanup."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker
import pytest

from agent.provision.resources import InstanceFacts
from agent.runtime.docker import DockerDriver
from agent.tasks.engine import Engine
from minecs.model.task import DesiredStatus, StopCode
from minecs.settings import EngineSettings, PullBehavior
from tests.conftest import TEST_IMAGE
from tests.integration.agent.conftest import assignment, container, rid
from tests.snapshots import is_running, is_stopped

# A registry on a closed loopback port: every pull fails at once and no traffic leaves the host.
CACHED = "127.0.0.1:9/minecs/busybox:cached"
ABSENT = "127.0.0.1:9/minecs/absent:1"


def _task_cgroup_limits(task_id: str) -> tuple[str, str] | None:
    """(memory limit bytes, cpu quota us) of the task's cgroup, v1 or v2; None once it is gone."""
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        task = Path("/sys/fs/cgroup/ecs") / task_id
        if not task.exists():
            return None
        return (task / "memory.max").read_text().strip(), (task / "cpu.max").read_text().split()[0]
    memory, cpu = Path("/sys/fs/cgroup/memory/ecs") / task_id, Path("/sys/fs/cgroup/cpu/ecs") / task_id
    if not memory.exists():
        return None
    return (memory / "memory.limit_in_bytes").read_text().strip(), (
        cpu / "cpu.cfs_quota_us"
    ).read_text().strip()


@pytest.fixture
def cached_tag(docker_client: docker.DockerClient) -> Iterator[str]:
    docker_client.images.get(TEST_IMAGE).tag(CACHED)
    try:
        yield CACHED
    finally:
        docker_client.images.remove(CACHED)


@pytest.fixture
async def quick(
    docker_driver: DockerDriver, engine_settings: EngineSettings, instance_facts: InstanceFacts
) -> AsyncIterator[Engine]:
    settings = dataclasses.replace(engine_settings, pull_behavior=PullBehavior.DEFAULT, cleanup_wait=0.5)
    engine = Engine(docker_driver, settings, instance_facts)
    async with engine.running():
        yield engine


async def test_default_pull_behaviour_runs_the_cached_image_when_no_registry_answers(
    quick: Engine, cached_tag: str
) -> None:
    task = assignment(container("app", image=cached_tag))
    quick.apply(task)
    running = await quick.wait_for(task.task_arn, is_running, within=60)
    assert running.pull_started_at is not None
    assert running.pull_stopped_at is not None


async def test_a_missing_image_fails_the_task_to_start(quick: Engine) -> None:
    task = assignment(container("app", image=ABSENT))
    quick.apply(task)
    stopped = await quick.wait_for(task.task_arn, is_stopped, within=60)
    assert stopped.stop_code is StopCode.TASK_FAILED_TO_START
    assert stopped.stopped_reason is not None
    assert stopped.stopped_reason.startswith("CannotPullContainerError: pull 127.0.0.1:9/minecs/absent:1")
    assert stopped.container("app").runtime_id is None


async def test_task_level_limits_use_the_task_cgroup_and_cleanup_removes_everything(
    quick: Engine, docker_client: docker.DockerClient
) -> None:
    task = assignment(
        container("app", memory=64),
        container("side", essential=False, memory=None, memoryReservation=16),
        cpu="256",
        memory="128",
        volumes=[{"name": "scratch"}],
    )
    quick.apply(task)
    running = await quick.wait_for(task.task_arn, is_running, within=60)
    host_config = docker_client.api.inspect_container(rid(running, "app"))["HostConfig"]
    assert host_config["CgroupParent"] == f"/ecs/{task.task_id}"
    assert _task_cgroup_limits(task.task_id) == (str(128 * 1024 * 1024), "25000")
    ids = {rid(running, "app"), rid(running, "side")}
    quick.apply(dataclasses.replace(task, desired_status=DesiredStatus.STOPPED))
    await quick.wait_for(task.task_arn, is_stopped, within=60)
    runner = quick.runner(task.task_arn)
    assert runner is not None
    for _ in range(100):
        if runner.cleaned:
            break
        await asyncio.sleep(0.1)
    assert runner.cleaned
    assert not docker_client.containers.list(all=True, filters={"id": list(ids)})
    assert not docker_client.volumes.list(filters={"label": f"minecs.task-id={task.task_id}"})
    assert _task_cgroup_limits(task.task_id) is None
