"""dependsOn, essential and stop order on real containers, as ECS runs them."""

from __future__ import annotations

import docker

from agent.runtime.base import parse_docker_time
from agent.tasks.engine import Engine
from minecs.model.task import (
    DesiredStatus,
    HealthStatus,
    KnownStatus,
    StopCode,
    TaskSnapshot,
    TaskStatus,
)
from tests.integration.agent.conftest import assignment, container, rid
from tests.snapshots import is_running, is_stopped, stop_task


def _times(client: docker.DockerClient, snapshot: TaskSnapshot, name: str) -> tuple[object, object]:
    state = client.api.inspect_container(rid(snapshot, name))["State"]
    return parse_docker_time(state["StartedAt"]), parse_docker_time(state["FinishedAt"])


async def test_success_dependency_starts_app_only_after_migration_exits_zero(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    task = assignment(
        container("db-migration", essential=False, command=["sh", "-c", "sleep 1; exit 0"]),
        container("app", dependsOn=[{"containerName": "db-migration", "condition": "SUCCESS"}]),
    )
    engine.apply(task)
    running = await engine.wait_for(task.task_arn, is_running, within=60)
    migration = running.container("db-migration")
    assert (migration.known_status, migration.exit_code) == (KnownStatus.STOPPED, 0)
    _, migration_finished = _times(docker_client, running, "db-migration")
    app_started, _ = _times(docker_client, running, "app")
    assert migration_finished <= app_started  # type: ignore[operator]
    stopped = await stop_task(engine, task)
    assert (stopped.stop_code, stopped.stopped_reason) == (StopCode.USER_INITIATED, "Task stopped by user")


async def test_success_dependency_exiting_non_zero_stops_app_with_143_and_the_task(engine: Engine) -> None:
    task = assignment(
        container("db-migration", essential=False, command=["sh", "-c", "exit 3"]),
        container("app", dependsOn=[{"containerName": "db-migration", "condition": "SUCCESS"}]),
    )
    engine.apply(task)
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=60)
    app = stopped.container("app")
    assert app.exit_code == 143
    assert app.runtime_id is None
    full = (
        "CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
        "[db-migration(minecs/busybox:latest) (STOPPED->STOPPED) - Exit: 3] for target "
        "[app(minecs/busybox:latest) (NONE->RUNNING)] as dependency did not exit successfully."
    )
    assert app.reason == full[:255]  # ECS cuts container reasons at 255 characters
    assert (stopped.stop_code, stopped.stopped_reason) == (
        StopCode.ESSENTIAL_CONTAINER_EXITED,
        "Essential container in task exited",
    )


async def test_complete_with_a_non_zero_exit_lets_the_dependent_start(engine: Engine) -> None:
    task = assignment(
        container("setup", essential=False, command=["sh", "-c", "exit 7"]),
        container("app", dependsOn=[{"containerName": "setup", "condition": "COMPLETE"}]),
    )
    engine.apply(task)
    running = await engine.wait_for(task.task_arn, is_running, within=60)
    assert running.container("setup").exit_code == 7
    assert running.container("app").known_status is KnownStatus.RUNNING
    await stop_task(engine, task)


async def test_firelens_router_starts_first_and_a_non_essential_udp_sidecar_may_exit(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    task = assignment(
        container("log_router", firelensConfiguration={"type": "fluentbit"}),
        container(
            "app",
            dependsOn=[{"containerName": "log_router", "condition": "START"}],
            logConfiguration={"logDriver": "awsfirelens", "options": {"Name": "stdout"}},
        ),
        container(
            "xray",
            essential=False,
            command=["sh", "-c", "nc -u -l -p 2000 & sleep 2; exit 1"],
            portMappings=[{"containerPort": 2000, "protocol": "udp"}],
        ),
    )
    engine.apply(task)
    running = await engine.wait_for(task.task_arn, is_running, within=60)
    router_started, _ = _times(docker_client, running, "log_router")
    app_started, _ = _times(docker_client, running, "app")
    assert router_started <= app_started  # type: ignore[operator]
    assert (
        docker_client.api.inspect_container(rid(running, "app"))["HostConfig"]["LogConfig"]["Type"]
        == "json-file"
    )
    after_sidecar = await engine.wait_for(
        task.task_arn, lambda s: s.container("xray").known_status is KnownStatus.STOPPED, within=60
    )
    assert after_sidecar.container("xray").exit_code == 1
    assert after_sidecar.last_status is TaskStatus.RUNNING
    assert after_sidecar.desired_status is DesiredStatus.RUNNING
    await stop_task(engine, task)


HEALTHY_AFTER_2S = {"command": ["CMD-SHELL", "test -f /tmp/ready"], "interval": 5, "timeout": 2, "retries": 3}


async def test_healthy_dependency_holds_the_app_until_the_health_check_passes(engine: Engine) -> None:
    task = assignment(
        container(
            "db",
            command=["sh", "-c", "trap 'exit 143' TERM; sleep 2; touch /tmp/ready; sleep 600 & wait"],
            healthCheck=HEALTHY_AFTER_2S,
        ),
        container("app", dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]),
    )
    engine.apply(task)
    running = await engine.wait_for(task.task_arn, is_running, within=60)
    history = engine.history(task.task_arn)
    first_healthy = next(s.seq for s in history if s.container("db").health_status is HealthStatus.HEALTHY)
    first_app_run = next(s.seq for s in history if s.container("app").known_status is KnownStatus.RUNNING)
    assert first_healthy < first_app_run
    assert running.health_status is HealthStatus.HEALTHY
    await stop_task(engine, task)


async def test_start_timeout_on_a_never_healthy_dependency_is_terminal(engine: Engine) -> None:
    task = assignment(
        container(
            "db",
            essential=False,
            startTimeout=3,
            healthCheck={"command": ["CMD", "false"], "interval": 5, "retries": 10},
        ),
        container("app", dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]),
    )
    engine.apply(task)
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=60)
    app = stopped.container("app")
    assert app.exit_code == 143
    assert app.reason is not None
    assert app.reason.startswith(
        "CannotStartContainerError: dependency graph: container ordering dependency [db("
    )
    assert app.reason.endswith("for target [app(minecs/busybox:latest) (NONE->RUNNING)] has timed out.")
    assert stopped.stop_code is StopCode.ESSENTIAL_CONTAINER_EXITED


async def test_essential_exit_stops_the_task_in_reverse_dependency_order(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    slow_stop = ["sh", "-c", "trap 'sleep 1; exit 143' TERM; sleep 600 & wait"]
    task = assignment(
        container("db", command=slow_stop),
        container("app", command=slow_stop, dependsOn=[{"containerName": "db", "condition": "START"}]),
        container(
            "job",
            command=["sh", "-c", "sleep 2; exit 0"],
            dependsOn=[{"containerName": "app", "condition": "START"}],
        ),
    )
    engine.apply(task)
    await engine.wait_for(task.task_arn, is_running, within=60)
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=90)
    assert (stopped.stop_code, stopped.stopped_reason) == (
        StopCode.ESSENTIAL_CONTAINER_EXITED,
        "Essential container in task exited",
    )
    _, job_finished = _times(docker_client, stopped, "job")
    _, app_finished = _times(docker_client, stopped, "app")
    _, db_finished = _times(docker_client, stopped, "db")
    assert job_finished < app_finished < db_finished  # type: ignore[operator]
    assert stopped.execution_stopped_at is not None
    assert stopped.stopped_at is not None
    assert stopped.stopping_at is not None
    seqs = [s.seq for s in engine.history(task.task_arn)]
    assert seqs == sorted(set(seqs))
