"""``minecs down`` from the user's side: every task stopped, the daemon gone, nothing of it left in Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker

from tests.integration.processes import Up
from tests.integration.test_services import manifests
from tests.taskdefs import web

# A task volume (no configuration: task-scoped) and a shared one, as the demo's www volume and a cache.
WITH_VOLUMES: dict[str, Any] = {
    "family": "scratch",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait $!"],
            "mountPoints": [
                {"sourceVolume": "cache", "containerPath": "/cache"},
                {"sourceVolume": "minecs-test-kept", "containerPath": "/kept"},
            ],
        }
    ],
    "volumes": [
        {"name": "cache"},
        {
            "name": "minecs-test-kept",
            "dockerVolumeConfiguration": {
                "scope": "shared",
                "autoprovision": True,
                "labels": {"minecs.test": "1"},
            },
        },
    ],
}


def _down(up: Up) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "minecs.cli",
            "down",
            "--data-dir",
            str(up.data_dir),
            "--endpoint",
            up.endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "MINECS_LOG_FORMAT": "json"},
    )


def test_down_stops_services_and_tasks_then_the_daemon_and_leaves_no_container(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    up = Up(tmp_path / "minecs", log=tmp_path / "up.log")
    try:
        assert (up.data_dir / "up.pid").read_text().strip() == str(up.process.pid)
        up.ok("POST", "/v1/apply", {"documents": manifests("site", web(), {"desiredCount": 2})})
        up.ok("POST", "/v1/taskdefinitions", WITH_VOLUMES)
        (task,) = up.ok("POST", "/v1/tasks", {"taskDefinition": "scratch"})["tasks"]
        standalone = task["taskArn"].rsplit("/", 1)[-1]
        up.wait_steady("site")
        up.wait_task(standalone, "RUNNING")
        instance = up.instances()[0]["instanceId"]
        mine: dict[str, str | list[str] | bool] = {"label": f"minecs.instance-id={instance}"}
        assert len(docker_client.containers.list(filters=mine)) >= 3
        task_volume: dict[str, str | list[str] | bool] = {"label": f"minecs.task-id={standalone}"}
        assert len(docker_client.volumes.list(filters=task_volume)) == 2  # cache, and the shared one

        done = _down(up)

        assert done.returncode == 0, done.stderr
        said = done.stdout.splitlines()
        pid = up.process.pid
        assert said[:2] == ["service/site scaled to 0", f"task/{standalone} stopping"]
        assert said[2:] == [
            "waiting for 3 tasks to stop",
            "all tasks stopped",
            f"minecs up (pid {pid}) stopping",
            f"minecs up (pid {pid}) exited",
            said[6],
            "no task container left",
        ]
        assert said[6].startswith("removed ")
        assert said[6].endswith(" containers and 1 task volumes of 3 tasks the agent kept")
        assert up.process.wait(timeout=10) == 0  # it ended as on SIGTERM, cleanly
        assert not (up.data_dir / "up.pid").exists()
        assert docker_client.containers.list(all=True, filters=mine) == []
        # The task volume went with its task; the shared one stays, as docker compose down keeps volumes.
        assert [v.name for v in docker_client.volumes.list(filters=task_volume)] == ["minecs-test-kept"]
    finally:
        if up.process.poll() is None:
            up.stop()


def test_down_with_no_up_running_touches_no_controller_and_succeeds(tmp_path: Path) -> None:
    up = Up(tmp_path / "minecs", log=tmp_path / "up.log")
    assert up.stop() == 0
    again = _down(up)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"no minecs up running (no live one in {up.data_dir / 'up.pid'}): no task to stop",
        "removed 0 containers and 0 task volumes of 0 tasks the agent kept",
        "no task container left",
    ]
