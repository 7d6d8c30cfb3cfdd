"""A controller and two agent processes on one host: DAEMON puts one task on each, spread balances."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import docker

from minecs.controlplane.services import is_steady
from tests.conftest import TEST_LABEL_KEY, free_port

HEALTH = {
    "command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
    "interval": 5,
    "timeout": 2,
}
WEB = {
    "name": "web",
    "image": "minecs/busybox:latest",
    "memory": 32,
    "stopTimeout": 2,
    "healthCheck": HEALTH,
    "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
    "portMappings": [{"containerPort": 8080}],
}


def _process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "minecs.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "MINECS_LOG_FORMAT": "json"},
    )


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.processes = [
            _process("controller", "--data-dir", str(root / "controller"), "--port", str(self.port))
        ]
        self.call("GET", "/healthz", wait=True)

    def call(self, method: str, path: str, body: Any = None, *, wait: bool = False) -> Any:
        headers = {"Content-Type": "application/json"}
        credentials = self.root / "controller" / "credentials"
        if credentials.exists():
            pairs = dict(line.split(" = ") for line in credentials.read_text().splitlines() if " = " in line)
            headers["Authorization"] = (
                f"MinecsAdmin {pairs['aws_access_key_id']}:{pairs['aws_secret_access_key']}"
            )
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}",
                method=method,
                headers=headers,
                data=json.dumps(body).encode() if body is not None else None,
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                raise AssertionError(error.read().decode()) from error
            except OSError:
                if not wait or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def add_agent(self, name: str) -> None:
        token = self.call("POST", "/v1/tokens", {"uses": 1})["token"]
        self.processes.append(
            _process(
                "agent",
                "--endpoint",
                f"http://127.0.0.1:{self.port}",
                "--token",
                token,
                "--data-dir",
                str(self.root / name),
                "--publish-address",
                "127.0.0.1",
                "--pull-behavior",
                "prefer-cached",
                "--label",
                f"{TEST_LABEL_KEY}=1",
            )
        )

    def wait(self, check: Any, within: float = 120) -> Any:
        deadline = time.monotonic() + within
        while True:
            found = check()
            if found:
                return found
            assert time.monotonic() < deadline, "condition never held"
            time.sleep(0.5)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=60)


def _steady(cluster: Cluster, name: str) -> bool:
    services = {s["serviceName"]: s for s in cluster.call("GET", "/v1/services")["services"]}
    service = services.get(name)
    return bool(service and service["desiredCount"] and is_steady(service))


def test_daemon_and_spread_across_two_agent_processes(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    cluster = Cluster(tmp_path)
    try:
        cluster.add_agent("agent-a")
        cluster.add_agent("agent-b")
        instances = cluster.wait(
            lambda: (
                (found := cluster.call("GET", "/v1/instances")["containerInstances"])
                and len(found) == 2
                and found
            )
        )
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
        cluster.call("POST", "/v1/apply", {"documents": documents})
        cluster.wait(lambda: _steady(cluster, "per-host") and _steady(cluster, "spread"))
        tasks = [t for t in cluster.call("GET", "/v1/tasks")["tasks"] if t["lastStatus"] == "RUNNING"]
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


def _live(cluster: Cluster) -> list[dict[str, Any]]:
    return [t for t in cluster.call("GET", "/v1/tasks")["tasks"] if t["desiredStatus"] == "RUNNING"]


def test_kill_9_of_the_controller_mid_deployment_loses_nothing(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    cluster = Cluster(tmp_path)
    try:
        cluster.add_agent("agent-a")
        cluster.wait(lambda: cluster.call("GET", "/v1/instances")["containerInstances"])
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
        cluster.call("POST", "/v1/apply", {"documents": [first, service]})
        cluster.wait(lambda: _steady(cluster, "web"))
        second = json.loads(json.dumps(first))
        second["spec"]["containerDefinitions"][0]["memory"] = 48
        cluster.call("POST", "/v1/apply", {"documents": [second, service]})
        cluster.wait(lambda: any(t["taskDefinitionArn"].endswith(":2") for t in _live(cluster)))
        controller = cluster.processes[0]
        controller.send_signal(signal.SIGKILL)
        controller.wait(timeout=30)
        time.sleep(3)  # the agent carries on alone: it finishes what it was told and keeps serving
        assert cluster.processes[1].poll() is None
        assert docker_client.containers.list(filters={"label": f"{TEST_LABEL_KEY}=1"})
        cluster.processes[0] = _process(
            "controller", "--data-dir", str(tmp_path / "controller"), "--port", str(cluster.port)
        )
        cluster.call("GET", "/healthz", wait=True)

        def finished() -> bool:
            services = cluster.call("GET", "/v1/services")["services"]
            return _steady(cluster, "web") and len(services[0]["deployments"]) == 1

        cluster.wait(finished, within=180)
        live = _live(cluster)
        assert len(live) == 2
        assert {t["taskDefinitionArn"].rsplit(":", 1)[-1] for t in live} == {"2"}
        assert len(cluster.call("GET", "/v1/instances")["containerInstances"]) == 1
        assert all(i["agentConnected"] for i in cluster.call("GET", "/v1/instances")["containerInstances"])
        containers = docker_client.containers.list(filters={"label": f"{TEST_LABEL_KEY}=1"})
        assert len(containers) == 2  # no duplicates: exactly the two tasks' containers run
    finally:
        cluster.stop()
