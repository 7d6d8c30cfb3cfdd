"""Edge autonomy (Done 7): the controller away for 60 s, and a silent agent, disturb no task.

A controller process and an agent process. While the controller is stopped the agent keeps its
tasks running and buffers what changes (a task that exits meanwhile); when the controller is back,
the instance first shows disconnected (its agent frozen for that moment, so the check is not a
race), then reconnects, replays, and nothing is duplicated or restarted.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.integration.processes import Cluster
from tests.taskdefs import web

TIMEOUT = "6"  # seconds without contact before an instance shows disconnected
WEB = web()
DOCUMENTS = [
    {
        "apiVersion": "minecs.dev/v1",
        "kind": "TaskDefinition",
        "metadata": {"name": "edge"},
        "spec": {"containerDefinitions": [WEB]},
    },
    {
        "apiVersion": "minecs.dev/v1",
        "kind": "TaskDefinition",
        "metadata": {"name": "batch"},
        "spec": {
            "containerDefinitions": [
                {
                    "name": "job",
                    "image": "minecs/busybox:latest",
                    "memory": 8,
                    "command": ["sh", "-c", "sleep 20; exit 3"],
                }
            ]
        },
    },
    {
        "apiVersion": "minecs.dev/v1",
        "kind": "Service",
        "metadata": {"name": "edge"},
        "spec": {"taskDefinition": "edge", "desiredCount": 2},
    },
]


@pytest.fixture
def cluster(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[Cluster]:
    running = Cluster(tmp_path, env={"MINECS_CONTROLLER_AGENT_TIMEOUT": TIMEOUT})
    try:
        running.add_agent("edge-host")
        running.wait(running.instances, 30, "registration")
        yield running
    finally:
        for process in running.agents.values():
            process.send_signal(signal.SIGCONT)
        running.stop()


def _containers(client: docker.DockerClient, family: str) -> dict[str, tuple[str, int]]:
    """Running containers of a family: id -> (StartedAt, RestartCount), straight from the engine."""
    found = client.containers.list(filters={"label": f"com.amazonaws.ecs.task-definition-family={family}"})
    return {str(c.id): (c.attrs["State"]["StartedAt"], c.attrs["RestartCount"]) for c in found}


def _connected(cluster: Cluster) -> bool:
    return bool(cluster.instances()[0]["agentConnected"])


def test_sixty_seconds_without_the_controller_disturb_nothing(
    cluster: Cluster, docker_client: docker.DockerClient
) -> None:
    cluster.ok("POST", "/v1/apply", {"documents": DOCUMENTS})
    cluster.wait_steady("edge")
    job = cluster.ok("POST", "/v1/tasks", {"taskDefinition": "batch"})["tasks"][0]
    job_id = job["taskArn"].rsplit("/", 1)[-1]
    cluster.wait_task(job_id, "RUNNING")
    before_tasks = {t["taskArn"] for t in cluster.live("service:edge")}
    before = _containers(docker_client, "edge")
    assert len(before) == 2

    cluster.controller.send_signal(signal.SIGTERM)
    assert cluster.controller.wait(timeout=60) == 0
    agent = cluster.agents["edge-host"]
    for _ in range(6):  # 60 s away, looking every 10 s
        time.sleep(10)
        assert agent.poll() is None, "the agent must outlive its controller"
        assert _containers(docker_client, "edge") == before  # same containers, never restarted
    assert not _containers(docker_client, "batch")  # the job exited meanwhile (after 20 s)

    agent.send_signal(signal.SIGSTOP)  # hold the agent back so the check below cannot race it
    cluster.start_controller()
    instance = cluster.instances()[0]
    assert instance["agentConnected"] is False  # 60 s of silence is past the 6 s window
    assert instance["status"] == "ACTIVE"
    agent.send_signal(signal.SIGCONT)
    cluster.wait(lambda: _connected(cluster), 60, "reconnection")

    stopped = cluster.wait_task(job_id, "STOPPED", within=60)  # reported from the agent's buffer
    assert stopped["containers"][0]["exitCode"] == 3
    assert stopped["stopCode"] == "EssentialContainerExited"
    service = cluster.wait_steady("edge")
    assert service["runningCount"] == 2
    assert {
        t["taskArn"] for t in cluster.live("service:edge")
    } == before_tasks  # no replacement, no duplicate
    assert _containers(docker_client, "edge") == before
    assert len([t for t in cluster.tasks() if t["group"] == "service:edge"]) == 2


def test_a_silent_agent_shows_disconnected_and_its_tasks_are_left_alone(
    cluster: Cluster, docker_client: docker.DockerClient
) -> None:
    cluster.ok("POST", "/v1/apply", {"documents": DOCUMENTS})
    cluster.wait_steady("edge")
    before = _containers(docker_client, "edge")
    agent = cluster.agents["edge-host"]
    agent.send_signal(signal.SIGSTOP)
    cluster.wait(lambda: not _connected(cluster), 30, "disconnection")
    time.sleep(8)  # several reconcile passes while the instance is away
    edge = cluster.live("service:edge")
    assert len(edge) == 2  # edge autonomy: the controller does not replace what it cannot see
    service: dict[str, Any] | None = cluster.service("edge")
    assert service is not None
    assert service["desiredCount"] == 2
    agent.send_signal(signal.SIGCONT)
    cluster.wait(lambda: _connected(cluster), 60, "reconnection")
    cluster.wait_steady("edge")
    assert _containers(docker_client, "edge") == before
    assert len([t for t in cluster.tasks() if t["group"] == "service:edge"]) == 2
