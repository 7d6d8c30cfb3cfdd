"""Task metadata endpoint v4: a busybox container fetches its own metadata (bridge and host mode)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import docker
import pytest

from tests.integration.processes import Up

# The pause lets the agent record the start first; the very first instruction can beat its bookkeeping.
FETCH = 'sleep 2; wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4"; echo; wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task"; echo; exec sleep 300'


def _fetched(
    up: Up, docker_client: docker.DockerClient, mode: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    family = f"meta-{mode}"
    up.ok(
        "POST",
        "/v1/taskdefinitions",
        {
            "family": family,
            "networkMode": mode,
            "containerDefinitions": [
                {
                    "name": "probe",
                    "image": "minecs/busybox:latest",
                    "memory": 16,
                    "stopTimeout": 2,
                    "command": ["sh", "-c", FETCH],
                }
            ],
        },
    )
    task = up.ok("POST", "/v1/tasks", {"taskDefinition": family, "group": "metadata-test"})["tasks"][0]
    running = up.wait_task(task["taskArn"].rsplit("/", 1)[-1], "RUNNING")
    container = docker_client.containers.get(running["containers"][0]["runtimeId"])
    deadline = time.monotonic() + 30
    while len(lines := container.logs().decode().splitlines()) < 2:
        assert time.monotonic() < deadline, container.logs()
        time.sleep(0.3)
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    return json.loads(lines[0]), json.loads(lines[1]), {"env": env, "task": running}


def test_a_bridge_container_reads_its_own_metadata_and_its_task(
    up: Up, docker_client: docker.DockerClient
) -> None:
    mine, task, seen = _fetched(up, docker_client, "bridge")
    env, stored = seen["env"], seen["task"]
    assert env["ECS_CONTAINER_METADATA_URI_V4"].startswith("http://")
    assert "/v4/" in env["ECS_CONTAINER_METADATA_URI_V4"]
    assert "/v3/" in env["ECS_CONTAINER_METADATA_URI"]
    assert mine["Name"] == "probe"
    assert mine["DockerId"] == stored["containers"][0]["runtimeId"]
    assert mine["KnownStatus"] == "RUNNING"
    assert mine["Labels"]["com.amazonaws.ecs.task-arn"] == stored["taskArn"]
    assert mine["Image"] == "minecs/busybox:latest"
    assert mine["Networks"] == [{"NetworkMode": "bridge"}]
    assert mine["StartedAt"].endswith("Z")
    assert (task["Cluster"], task["TaskARN"], task["Family"], task["Revision"]) == (
        "default",
        stored["taskArn"],
        "meta-bridge",
        "1",
    )
    assert task["LaunchType"] == "EXTERNAL"
    assert task["Group"] == "metadata-test"
    assert [c["Name"] for c in task["Containers"]] == ["probe"]


def test_a_host_mode_container_reaches_it_on_loopback(up: Up, docker_client: docker.DockerClient) -> None:
    mine, task, seen = _fetched(up, docker_client, "host")
    assert seen["env"]["ECS_CONTAINER_METADATA_URI_V4"].startswith("http://127.0.0.1:")
    assert mine["Networks"] == [{"NetworkMode": "host"}]
    assert task["Containers"][0]["DockerId"] == mine["DockerId"]


def test_an_unknown_endpoint_id_is_a_404_with_the_agents_message(
    up: Up, docker_client: docker.DockerClient
) -> None:
    _, _, seen = _fetched(up, docker_client, "host")
    base = seen["env"]["ECS_CONTAINER_METADATA_URI_V4"].rsplit("/", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{base}/0123456789abcdef0123456789abcdef", timeout=5)
    assert caught.value.code == 404
    assert json.loads(caught.value.read()).startswith("V4 container metadata handler: ")


def test_introspection_says_which_instance_this_is_and_what_it_runs(
    up: Up, docker_client: docker.DockerClient
) -> None:
    _, _, seen = _fetched(up, docker_client, "host")
    with urllib.request.urlopen("http://127.0.0.1:51678/v1/metadata", timeout=5) as answer:
        about = json.loads(answer.read())
    (instance,) = up.instances()
    assert (about["Cluster"], about["ContainerInstanceArn"]) == ("default", instance["containerInstanceArn"])
    docker_id = seen["task"]["containers"][0]["runtimeId"]
    with urllib.request.urlopen(
        f"http://127.0.0.1:51678/v1/tasks?dockerid={docker_id[:12]}", timeout=5
    ) as answer:
        task = json.loads(answer.read())
    assert task["Arn"] == seen["task"]["taskArn"]
    assert task["Containers"][0]["Name"] == "probe"
