"""Engine logic against the fake driver: pulls, failures to start, secrets, restarts, vanishing.

The real-engine behaviour is covered in tests/integration/agent; these run in milliseconds and
reach the branches a real engine makes slow or awkward to provoke.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.provision.resources import InstanceFacts
from agent.runtime.base import Health
from agent.runtime.fake import FakeDriver
from agent.tasks.engine import Engine
from minecs.model.registered import register
from minecs.model.task import (
    DesiredStatus,
    HealthStatus,
    KnownStatus,
    StopCode,
    TaskAssignment,
    TaskStatus,
)
from minecs.settings import EngineSettings, ProvisionSettings, PullBehavior
from minecs.validation import parse_task_definition
from tests.conftest import wait_until
from tests.snapshots import is_running, is_stopped

IMAGE = "minecs/busybox:latest"


def task(
    *containers: dict[str, Any], arn: str = "arn:aws:ecs:r:1:task/default/t1", **members: Any
) -> TaskAssignment:
    spec = parse_task_definition({"family": "f", "containerDefinitions": list(containers), **members})
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/f:1", revision=1, registered_at=datetime.now(UTC)
    )
    return TaskAssignment(task_arn=arn, cluster="default", definition=td)


def c(name: str, **members: Any) -> dict[str, Any]:
    return {"name": name, "image": IMAGE, "memory": 16, **members}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)  # the fake driver stamps containers with real time

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake() -> FakeDriver:
    return FakeDriver(images={IMAGE})


@pytest.fixture
def clock() -> Clock:
    return Clock()


FACTS = InstanceFacts("fake", "127.0.0.1")


def settings(**overrides: Any) -> EngineSettings:
    base = EngineSettings(
        resync_interval=0.05,
        pull_behavior=PullBehavior.PREFER_CACHED,
        provision=ProvisionSettings(port_range=(45000, 45100)),
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture
async def engine(fake: FakeDriver, clock: Clock) -> AsyncIterator[Engine]:
    engine = Engine(fake, settings(), FACTS, clock=clock)
    async with engine.running():
        yield engine


async def test_missing_image_fails_the_task_to_start(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app", image="example/absent:1"))
    engine.apply(t)
    done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.stop_code is StopCode.TASK_FAILED_TO_START
    assert done.stopped_reason is not None
    assert done.stopped_reason.startswith("CannotPullContainerError: pull example/absent:1")
    assert done.container("app").reason == done.stopped_reason
    assert fake.calls.count(("pull", "example/absent:1")) == 1


@pytest.mark.parametrize(
    ("behavior", "pulls", "runs"),
    [
        (PullBehavior.DEFAULT, 1, True),
        (PullBehavior.ALWAYS, 1, False),
        (PullBehavior.ONCE, 0, True),
        (PullBehavior.PREFER_CACHED, 0, True),
    ],
)
async def test_pull_behaviours_with_a_cached_image_and_no_registry(
    behavior: PullBehavior, pulls: int, runs: bool, clock: Clock
) -> None:
    fake = FakeDriver(images={IMAGE})
    engine = Engine(fake, settings(pull_behavior=behavior), FACTS, clock=clock)
    t = task(c("app"))
    async with engine.running():
        engine.apply(t)
        done = await engine.wait_for(
            t.task_arn, lambda s: s.last_status in (TaskStatus.RUNNING, TaskStatus.STOPPED), within=5
        )
    assert fake.calls.count(("pull", IMAGE)) == pulls
    assert (done.last_status is TaskStatus.RUNNING) is runs


async def test_a_cached_image_is_checked_once_and_again_when_it_was_removed_since(
    engine: Engine, fake: FakeDriver
) -> None:
    first, second, third = (task(c("app"), arn=f"arn:aws:ecs:r:1:task/default/t{n}") for n in range(3))
    for t in (first, second):
        engine.apply(t)
        await engine.wait_for(t.task_arn, is_running, within=5)
    assert fake.calls.count(("image_present", IMAGE)) == 1  # the second task needed no Docker call
    fake.images.discard(IMAGE)  # docker rmi behind the agent's back; a registry has it
    fake.pullable.add(IMAGE)
    engine.apply(third)
    running = await engine.wait_for(third.task_arn, is_running, within=5)
    assert running.container("app").runtime_id is not None
    assert fake.calls.count(("image_present", IMAGE)) == 2
    assert fake.calls.count(("pull", IMAGE)) == 1


async def test_an_image_removed_from_a_registryless_host_fails_with_cannot_pull(
    engine: Engine, fake: FakeDriver
) -> None:
    first, second = (task(c("app"), arn=f"arn:aws:ecs:r:1:task/default/t{n}") for n in range(2))
    engine.apply(first)
    await engine.wait_for(first.task_arn, is_running, within=5)
    fake.images.discard(IMAGE)
    engine.apply(second)
    done = await engine.wait_for(second.task_arn, is_stopped, within=5)
    assert done.stopped_reason is not None
    assert done.stopped_reason.startswith("CannotPullContainerError: pull minecs/busybox")


async def test_a_missing_secret_fails_the_task_without_revealing_anything(
    tmp_path: Path, clock: Clock
) -> None:
    fake = FakeDriver(images={IMAGE})
    (tmp_path / "present").write_text("hunter2")
    (tmp_path / "present").chmod(0o600)
    engine = Engine(fake, settings(), FACTS, secrets_dir=tmp_path, clock=clock)
    good = task(
        c("app", secrets=[{"name": "PASSWORD", "valueFrom": "arn:aws:ssm:r:1:parameter/present"}]),
        arn="arn:aws:ecs:r:1:task/default/good",
    )
    bad = task(
        c("app", secrets=[{"name": "TOKEN", "valueFrom": "arn:aws:ssm:r:1:parameter/absent"}]),
        arn="arn:aws:ecs:r:1:task/default/bad",
    )
    async with engine.running():
        engine.apply(good)
        engine.apply(bad)
        ok = await engine.wait_for(good.task_arn, is_running, within=5)
        failed = await engine.wait_for(bad.task_arn, is_stopped, within=5)
    container_id = ok.container("app").runtime_id
    assert container_id is not None
    assert fake.spec_of(container_id).env["PASSWORD"] == "hunter2"
    assert "hunter2" not in repr(engine.history(good.task_arn))
    assert failed.stop_code is StopCode.TASK_FAILED_TO_START
    assert failed.stopped_reason is not None
    assert failed.stopped_reason.startswith(
        "ResourceInitializationError: unable to pull secrets or environment files for container app: no secret for"
    )


async def test_restart_policy_restarts_in_place_after_the_attempt_period(
    engine: Engine, fake: FakeDriver, clock: Clock
) -> None:
    t = task(c("app", restartPolicy={"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60}))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    container_id = first.container("app").runtime_id
    assert container_id is not None
    clock.now += timedelta(seconds=61)
    fake.exit(container_id, 1)
    again = await engine.wait_for(t.task_arn, lambda s: s.container("app").restart_count == 1, within=5)
    assert again.container("app").runtime_id == container_id
    assert again.desired_status is DesiredStatus.RUNNING
    assert (await fake.inspect(container_id)).running
    clock.now += timedelta(seconds=10)
    fake.exit(container_id, 1)  # too soon after the restart: not restarted, the essential rule applies
    done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.stop_code is StopCode.ESSENTIAL_CONTAINER_EXITED
    assert done.container("app").restart_count == 1


async def test_ignored_exit_codes_are_not_restarted(engine: Engine, fake: FakeDriver, clock: Clock) -> None:
    t = task(c("app", restartPolicy={"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60}))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    clock.now += timedelta(seconds=120)
    fake.exit(first.container("app").runtime_id or "", 0)
    done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.container("app").restart_count == 0


async def test_oom_kill_gives_the_ecs_reason(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app"))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    fake.exit(first.container("app").runtime_id or "", 137, oom=True)
    done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.container("app").reason == "OutOfMemoryError: Container killed due to memory usage"
    assert done.container("app").exit_code == 137


async def test_a_container_removed_behind_our_back_is_vanished(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app"))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    fake.vanish(first.container("app").runtime_id or "")
    done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.container("app").reason == "ContainerVanishedError: No container matching saved ID found"


async def test_static_host_port_conflict_between_tasks(engine: Engine) -> None:
    one = task(
        c("web", portMappings=[{"containerPort": 80, "hostPort": 45050}]),
        arn="arn:aws:ecs:r:1:task/default/one",
    )
    two = task(
        c("web", portMappings=[{"containerPort": 80, "hostPort": 45050}]),
        arn="arn:aws:ecs:r:1:task/default/two",
    )
    engine.apply(one)
    first = await engine.wait_for(one.task_arn, is_running, within=5)
    assert first.container("web").network_bindings[0].host_port == 45050
    engine.apply(two)
    refused = await engine.wait_for(two.task_arn, is_stopped, within=5)
    assert refused.stopped_reason == (
        "ResourceInitializationError: host port 45050/tcp is already used by another task on this instance"
    )


async def test_seq_grows_by_one_and_repeats_nothing(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app"), c("side", essential=False))
    engine.apply(t)
    await engine.wait_for(t.task_arn, is_running, within=5)
    engine.apply(dataclasses.replace(t, desired_status=DesiredStatus.STOPPED))
    await engine.wait_for(t.task_arn, is_stopped, within=5)
    history = engine.history(t.task_arn)
    assert [s.seq for s in history] == list(range(1, len(history) + 1))
    assert all(
        dataclasses.replace(a, seq=0) != dataclasses.replace(b, seq=0) for a, b in itertools.pairwise(history)
    )
    assert engine.history(t.task_arn, after_seq=history[-2].seq) == [history[-1]]
    statuses = [s.last_status for s in history]
    assert statuses[-1] is TaskStatus.STOPPED
    assert TaskStatus.RUNNING in statuses
    assert TaskStatus.STOPPING in statuses


async def test_dependency_wait_bound_ends_an_endless_wait(fake: FakeDriver, clock: Clock) -> None:
    engine = Engine(fake, settings(dependency_wait_timeout=30), FACTS, clock=clock)
    t = task(
        c("db", healthCheck={"command": ["CMD", "true"]}),
        c("app", dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]),
    )
    async with engine.running():
        engine.apply(t)
        await engine.wait_for(
            t.task_arn, lambda s: s.container("db").known_status is KnownStatus.RUNNING, within=5
        )
        clock.now += timedelta(seconds=31)
        done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    reason = done.container("app").reason or ""
    assert reason.startswith(
        "CannotStartContainerError: dependency graph: container ordering dependency [db("
    )
    assert reason.endswith("has timed out.")


async def test_stopping_the_agent_leaves_containers_running(fake: FakeDriver, clock: Clock) -> None:
    engine = Engine(fake, settings(), FACTS, clock=clock)
    t = task(c("app"))
    async with engine.running():
        engine.apply(t)
        snapshot = await engine.wait_for(t.task_arn, is_running, within=5)
    assert (await fake.inspect(snapshot.container("app").runtime_id or "")).running


async def test_a_missed_event_is_healed_by_the_periodic_resync(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app"))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    fake.exit(first.container("app").runtime_id or "", 2, quiet=True)
    done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.container("app").exit_code == 2


async def test_a_missed_health_change_is_healed_by_the_resync(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app", healthCheck={"command": ["CMD", "true"]}))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    fake.set_health(first.container("app").runtime_id or "", Health.HEALTHY, quiet=True)
    healthy = await engine.wait_for(t.task_arn, lambda s: s.health_status is HealthStatus.HEALTHY, within=5)
    assert healthy.container("app").health_status is HealthStatus.HEALTHY


async def test_the_resync_lists_once_and_inspects_no_container_that_agrees(
    engine: Engine, fake: FakeDriver
) -> None:
    tasks = [task(c("app"), c("side", essential=False)) for _ in range(3)]
    for t in tasks:
        engine.apply(t)
    for t in tasks:
        await engine.wait_for(t.task_arn, is_running, within=5)
    before = len(fake.calls)

    async def calls_since() -> list[str]:
        return [call for call, _ in fake.calls[before:]]

    since = await wait_until(calls_since, lambda calls: calls.count("states") >= 4, within=10, interval=0.01)
    # Inspecting on a timer re-read all six containers on every round; a late start event may
    # still cause one inspect of its container, never a round of them.
    assert since.count("inspect") < 6
    assert set(since) <= {"states", "inspect"}


async def test_an_unhealthy_standalone_task_keeps_running(engine: Engine, fake: FakeDriver) -> None:
    t = task(c("app", healthCheck={"command": ["CMD", "true"]}))
    engine.apply(t)
    first = await engine.wait_for(t.task_arn, is_running, within=5)
    fake.set_health(first.container("app").runtime_id or "", Health.UNHEALTHY)
    sick = await engine.wait_for(t.task_arn, lambda s: s.health_status is HealthStatus.UNHEALTHY, within=5)
    assert sick.last_status is TaskStatus.RUNNING
    assert sick.desired_status is DesiredStatus.RUNNING


class BarrierDriver(FakeDriver):
    """Each create waits until ``parties`` creates are in progress: a sequential engine would hang."""

    def __init__(self, parties: int) -> None:
        super().__init__(images={IMAGE})
        self.barrier = asyncio.Barrier(parties)

    async def create(self, spec: Any) -> str:
        async with asyncio.timeout(5):
            await self.barrier.wait()
        return await super().create(spec)


async def test_independent_containers_are_created_concurrently(clock: Clock) -> None:
    fake = BarrierDriver(parties=4)
    engine = Engine(fake, settings(), FACTS, clock=clock)
    t = task(c("a"), c("b"), c("c"), c("d"))
    async with engine.running():
        engine.apply(t)
        done = await engine.wait_for(t.task_arn, is_running, within=5)
    assert all(x.known_status is KnownStatus.RUNNING for x in done.containers)
