"""Volumes and environment files on real containers: host binds, shared and task volumes, volumesFrom."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docker

from agent.tasks.engine import Engine
from minecs.model.task import DesiredStatus, StopCode
from tests.conftest import TEST_LABELS
from tests.integration.agent.conftest import assignment, container, rid
from tests.snapshots import container_stopped, is_stopped


async def test_host_bind_shared_volume_volumes_from_and_env_files(
    engine: Engine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "greeting").write_text("from the host")
    env_file = tmp_path / "app.env"
    env_file.write_text("# settings\nMODE=file\nLEVEL=debug\n")
    shared = "minecs-test-shared"  # labelled, so the per-test cleanup removes it
    task = assignment(
        container(
            "data",
            essential=False,
            command=["sh", "-c", "echo from-data > /data/x; sleep 600"],
            mountPoints=[{"sourceVolume": "scratch", "containerPath": "/data"}],
        ),
        container(
            "check",
            essential=False,
            command=[
                "sh",
                "-c",
                'test "$(cat /host/greeting)" = "from the host" && test "$MODE" = env && test "$LEVEL" = debug '
                "&& echo kept > /shared/mark && cat /data/x && ! touch /host/readonly 2>/dev/null",
            ],
            environment=[{"name": "MODE", "value": "env"}],
            environmentFiles=[{"value": str(env_file), "type": "s3"}],
            mountPoints=[
                {"sourceVolume": "host", "containerPath": "/host", "readOnly": True},
                {"sourceVolume": shared, "containerPath": "/shared"},
            ],
            volumesFrom=[{"sourceContainer": "data", "readOnly": True}],
            dependsOn=[{"containerName": "data", "condition": "START"}],
        ),
        container("app"),
        volumes=[
            {"name": "host", "host": {"sourcePath": str(host_dir)}},
            {"name": "scratch"},
            {
                "name": shared,
                "dockerVolumeConfiguration": {
                    "scope": "shared",
                    "autoprovision": True,
                    "labels": TEST_LABELS,
                },
            },
        ],
    )
    engine.apply(task)
    checked = await engine.wait_for(task.task_arn, container_stopped("check"), within=60)
    logs = docker_client.api.logs(rid(checked, "check")).decode()
    assert checked.container("check").exit_code == 0, logs
    assert "from-data" in logs
    assert docker_client.volumes.get(shared).attrs["Labels"]["minecs.test"] == "1"
    engine.apply(dataclasses.replace(task, desired_status=DesiredStatus.STOPPED))
    await engine.wait_for(task.task_arn, is_stopped, within=60)
    assert docker_client.volumes.get(shared).name == shared  # shared volumes outlive the task


async def test_a_shared_volume_that_must_exist_and_does_not_fails_the_task(engine: Engine) -> None:
    task = assignment(
        container("app", mountPoints=[{"sourceVolume": "nope", "containerPath": "/x"}]),
        volumes=[{"name": "nope", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": False}}],
    )
    engine.apply(task)
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=60)
    assert stopped.stop_code is StopCode.TASK_FAILED_TO_START
    assert stopped.stopped_reason == (
        "ResourceInitializationError: volume 'nope' does not exist and autoprovision is set to false"
    )
