"""A controller and two agent processes on one host: DAEMON puts one task on each, spread balances."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import docker

from minecs.controlplane.services import is_steady
from tests.conftest import TEST_LABEL_KEY
from tests.integration.processes import Cluster
from tests.taskdefs import web

WEB = web(memory=32, portMappings=[{"containerPort": 8080}])


def test_daemon_and_spread_across_two_agent_processes(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    cluster = Cluster(tmp_path)
    try:
        cluster.add_agent("agent-a")
        cluster.add_agent("agent-b")
        instances = cluster.wait(lambda: found if len(found := cluster.instances()) == 2 else None)
        documents = [
            {
                "apiVersion": "minecs.dev/v1",
                "kind": "TaskDefinition",
                "metadata": {"name": "web"},
                "spec": {"containerDefinitions": [WEB]},
            },
            {
                "apiVersion": "minecs.dev/v1",
                "kind": "Service",
                "metadata": {"name": "per-host"},
                "spec": {"taskDefinition": "web", "schedulingStrategy": "DAEMON"},
            },
            {
                "apiVersion": "minecs.dev/v1",
                "kind": "Service",
                "metadata": {"name": "spread"},
                "spec": {
                    "taskDefinition": "web",
                    "desiredCount": 4,
                    "placementStrategy": [{"type": "spread", "field": "instanceId"}],
                },
            },
        ]
        cluster.ok("POST", "/v1/apply", {"documents": documents})
        cluster.wait_steady("per-host")
        cluster.wait_steady("spread")
        tasks = [t for t in cluster.tasks() if t["lastStatus"] == "RUNNING"]
        by_service: dict[str, list[str]] = {}
        for task in tasks:
            by_service.setdefault(task["group"], []).append(task["containerInstanceArn"].rsplit("/", 1)[-1])
        ids = sorted(i["instanceId"] for i in instances)
        assert sorted(by_service["service:per-host"]) == ids
        assert sorted(by_service["service:spread"]) == sorted(ids * 2)
        for instance_id in ids:
            mine = docker_client.containers.list(filters={"label": f"minecs.instance-id={instance_id}"})
            assert len(mine) == 3  # one daemon task and two spread tasks, each with one container
    finally:
        cluster.stop()


def test_kill_9_of_the_controller_mid_deployment_loses_nothing(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    cluster = Cluster(tmp_path)
    try:
        cluster.add_agent("agent-a")
        cluster.wait(cluster.instances)
        service = {
            "apiVersion": "minecs.dev/v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {
                "taskDefinition": "web",
                "desiredCount": 2,
                "deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 50},
            },
        }
        first = {
            "apiVersion": "minecs.dev/v1",
            "kind": "TaskDefinition",
            "metadata": {"name": "web"},
            "spec": {"containerDefinitions": [WEB]},
        }
        cluster.ok("POST", "/v1/apply", {"documents": [first, service]})
        cluster.wait_steady("web")
        second = json.loads(json.dumps(first))
        second["spec"]["containerDefinitions"][0]["memory"] = 48
        cluster.ok("POST", "/v1/apply", {"documents": [second, service]})
        cluster.wait(lambda: any(t["taskDefinitionArn"].endswith(":2") for t in cluster.live()))
        cluster.controller.send_signal(signal.SIGKILL)
        cluster.controller.wait(timeout=30)
        time.sleep(3)  # the agent carries on alone: it finishes what it was told and keeps serving
        assert cluster.agents["agent-a"].poll() is None
        assert docker_client.containers.list(filters={"label": f"{TEST_LABEL_KEY}=1"})
        cluster.start_controller()
        cluster.wait_service("web", lambda s: is_steady(s) and len(s["deployments"]) == 1, within=180)
        live = cluster.live()
        assert len(live) == 2
        assert {t["taskDefinitionArn"].rsplit(":", 1)[-1] for t in live} == {"2"}
        assert len(cluster.instances()) == 1
        assert cluster.wait(lambda: all(i["agentConnected"] for i in cluster.instances()))
        containers = docker_client.containers.list(filters={"label": f"{TEST_LABEL_KEY}=1"})
        assert len(containers) == 2  # no duplicates: exactly the two tasks' containers run
    finally:
        cluster.stop()
