"""An EFS volume on a real engine: ``minecs up`` with a file system mapped to an NFS address on
loopback, driven by boto3 and the aws CLI. The task gets a Docker ``local`` volume of ``type=nfs``
with the mapped options; nothing serves NFS there (and this host's kernel may have no NFS client),
so the mount fails when the container starts, and the task must stop saying so, not hang."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docker

from tests.conftest import free_port
from tests.integration.processes import Up
from tests.integration.test_ecs_api import FAST, aws, ecs_client
from tests.taskdefs import container


def test_a_mapped_efs_volume_becomes_an_nfs_docker_volume_and_a_failed_mount_stops_the_task(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    port = free_port()  # nothing listens there
    mapping = {
        "fs-0123": {"server": "127.0.0.1", "port": port, "export": "/exports", "options": "soft,timeo=10"}
    }
    up = Up(
        tmp_path / "minecs",
        log=tmp_path / "up.log",
        env={"MINECS_CONTROLLER_EFS_FILE_SYSTEMS": json.dumps(mapping)},
    )
    try:
        ecs = ecs_client(up)
        ecs.register_task_definition(
            family="efs",
            containerDefinitions=[
                container(
                    command=["sh", "-c", "sleep 600"],
                    mountPoints=[{"sourceVolume": "data", "containerPath": "/data", "readOnly": True}],
                )
            ],
            volumes=[
                {
                    "name": "data",
                    "efsVolumeConfiguration": {"fileSystemId": "fs-0123", "rootDirectory": "/app"},
                }
            ],
        )
        task_arn = ecs.run_task(taskDefinition="efs")["tasks"][0]["taskArn"]
        ecs.get_waiter("tasks_stopped").wait(tasks=[task_arn], **FAST)
        described = json.loads(aws(up, "describe-tasks", "--tasks", task_arn).stdout)["tasks"][0]
        assert described["stopCode"] == "TaskFailedToStart", described
        # The engine's cause ends the reason: "no such device" without a kernel NFS client,
        # "connection refused" or a timeout with one.
        assert re.fullmatch(
            rf"CannotStartContainerError: cannot mount volume ecs-efs-1-data-\w+ "
            rf"\(:/exports/app, addr=127\.0\.0\.1,nfsvers=4\.1,port={port},soft,timeo=10\): \S.*",
            described["stoppedReason"],
        ), described
        assert "nfsVolumes" not in described

        (volume,) = docker_client.volumes.list(
            filters={"label": f"minecs.task-id={task_arn.rsplit('/', 1)[-1]}"}
        )
        assert volume.name.startswith("ecs-efs-1-data-")
        assert volume.attrs["Driver"] == "local"
        assert volume.attrs["Options"] == {
            "type": "nfs",
            "o": f"addr=127.0.0.1,nfsvers=4.1,port={port},soft,timeo=10,ro",
            "device": ":/exports/app",
        }
        assert volume.attrs["Labels"]["minecs.test"] == "1"

        ecs.register_task_definition(
            family="lost",
            containerDefinitions=[
                container(mountPoints=[{"sourceVolume": "data", "containerPath": "/data"}])
            ],
            volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-9999"}}],
        )
        refused = aws(up, "run-task", "--task-definition", "lost", check=False)
        assert refused.returncode != 0
        assert "ClientException" in refused.stderr
        assert "fs-9999 is not mapped on this controller" in refused.stderr
        assert "controller.efs.file_systems" in refused.stderr
    finally:
        up.stop()
