"""Resources, restarts, secrets and volumes on real containers."""

from __future__ import annotations

import asyncio
import dataclasses
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
from structlog.testing import capture_logs

from agent.provision.resources import InstanceFacts
from agent.runtime.docker import DockerDriver
from agent.tasks.engine import Engine
from minecs.manifests import parse_text
from minecs.model.registered import register
from minecs.model.task import KnownStatus, StopCode, TaskStatus
from minecs.model.taskdef import TaskDefinitionSpec
from minecs.settings import EngineSettings
from tests.conftest import LOOPBACK, REPO_ROOT
from tests.integration.agent.conftest import assignment, container, rid
from tests.snapshots import is_running, is_stopped, stop_task


async def test_memory_limit_oom_kill_gives_the_reason(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    task = assignment(
        container(
            "hog",
            memory=8,
            linuxParameters={"maxSwap": 0},
            command=["sh", "-c", "x=$(head -c 64000000 /dev/zero | tr '\\0' a); sleep 60"],
        ),
    )
    engine.apply(task)
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=60)
    hog = stopped.container("hog")
    assert hog.reason == "OutOfMemoryError: Container killed due to memory usage"
    assert hog.exit_code == 137
    host_config = docker_client.api.inspect_container(rid(stopped, "hog"))["HostConfig"]
    assert (host_config["Memory"], host_config["MemorySwap"]) == (8 * 1024 * 1024, 8 * 1024 * 1024)


class SkewedClock:
    """Real time plus an offset the test can move, to stand for a container that ran a long time."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
async def skewed(
    docker_driver: DockerDriver, engine_settings: EngineSettings, instance_facts: InstanceFacts
) -> AsyncIterator[tuple[Engine, SkewedClock]]:
    clock = SkewedClock()
    engine = Engine(docker_driver, engine_settings, instance_facts, clock=clock)
    async with engine.running():
        yield engine, clock


async def test_restart_policy_restarts_the_same_container_and_honours_ignored_codes(
    skewed: tuple[Engine, SkewedClock], docker_client: docker.DockerClient
) -> None:
    engine, clock = skewed
    exit_on_flag = [
        "sh",
        "-c",
        "trap 'exit 143' TERM; while [ ! -f /tmp/exit ]; do sleep 0.2; done; rm /tmp/exit; exit $(cat /tmp/code)",
    ]
    task = assignment(
        container(
            "app",
            command=exit_on_flag,
            restartPolicy={"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60},
        )
    )
    engine.apply(task)
    first = await engine.wait_for(task.task_arn, is_running, within=60)
    container_id = rid(first, "app")
    first_start = docker_client.api.inspect_container(container_id)["State"]["StartedAt"]
    clock.offset = timedelta(seconds=61)
    docker_client.containers.get(container_id).exec_run(["sh", "-c", "echo 3 > /tmp/code; touch /tmp/exit"])
    restarted = await engine.wait_for(
        task.task_arn, lambda s: s.container("app").restart_count == 1, within=30
    )
    assert rid(restarted, "app") == container_id
    await engine.wait_for(
        task.task_arn,
        lambda s: s.seq > restarted.seq and s.container("app").known_status is KnownStatus.RUNNING,
        within=30,
    )
    state = docker_client.api.inspect_container(container_id)["State"]
    assert state["Running"]
    assert state["StartedAt"] != first_start
    clock.offset = timedelta(seconds=200)
    docker_client.containers.get(container_id).exec_run(["sh", "-c", "echo 0 > /tmp/code; touch /tmp/exit"])
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=30)
    assert (stopped.container("app").exit_code, stopped.container("app").restart_count) == (0, 1)
    assert stopped.stop_code is StopCode.ESSENTIAL_CONTAINER_EXITED


async def test_secrets_are_injected_and_never_logged_or_reported(
    docker_driver: DockerDriver,
    engine_settings: EngineSettings,
    instance_facts: InstanceFacts,
    tmp_path: Path,
) -> None:
    (tmp_path / "db-password").write_text("hunter2-s3cret")
    (tmp_path / "db-password").chmod(0o600)
    engine = Engine(docker_driver, engine_settings, instance_facts, secrets_dir=tmp_path)
    good = assignment(
        container(
            "check",
            essential=False,
            command=["sh", "-c", 'test "$DB_PASSWORD" = hunter2-s3cret'],
            secrets=[
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/app/db-password",
                }
            ],
        ),
        container("app"),
    )
    missing = assignment(
        container("app", secrets=[{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:0:parameter/none"}])
    )
    with capture_logs() as logged:
        async with engine.running():
            engine.apply(good)
            engine.apply(missing)
            checked = await engine.wait_for(
                good.task_arn, lambda s: s.container("check").known_status is KnownStatus.STOPPED, within=60
            )
            failed = await engine.wait_for(missing.task_arn, is_stopped, within=60)
            await stop_task(engine, good)
    assert checked.container("check").exit_code == 0
    assert "hunter2-s3cret" not in repr(logged)
    assert "hunter2-s3cret" not in repr(engine.history(good.task_arn))
    assert failed.stop_code is StopCode.TASK_FAILED_TO_START
    assert failed.stopped_reason is not None
    assert failed.stopped_reason.startswith(
        "ResourceInitializationError: unable to pull secrets or environment files for container app"
    )


async def test_the_demo_task_definition_runs_with_its_task_volume(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    docs = parse_text((REPO_ROOT / "manifests" / "examples" / "demo.yaml").read_text(), "demo.yaml")
    spec = next(d.body for d in docs if isinstance(d.body, TaskDefinitionSpec))
    td = register(
        spec,
        arn="arn:aws:ecs:us-east-1:000000000000:task-definition/demo-web:1",
        revision=1,
        registered_at=datetime.now(UTC),
    )
    task = dataclasses.replace(assignment(container("x")), definition=td)
    engine.apply(task)
    running = await engine.wait_for(
        task.task_arn,
        lambda s: (
            s.last_status is TaskStatus.RUNNING
            and s.container("log-sidecar").known_status is KnownStatus.RUNNING
        ),
        within=90,
    )
    (binding,) = running.container("web").network_bindings
    page = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://{LOOPBACK}:{binding.host_port}/", timeout=5).read().decode()
    )
    assert "<h1>minecs demo</h1>" in page
    mounts = docker_client.api.inspect_container(rid(running, "web"))["Mounts"]
    (volume,) = [m for m in mounts if m["Destination"] == "/www"]
    assert volume["Name"].startswith("ecs-demo-web-1-www-")
    assert volume["RW"] is False
    await stop_task(engine, task)
