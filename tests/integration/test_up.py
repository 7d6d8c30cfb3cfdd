"""``minecs up`` as a real process: controller + agent over real HTTP, real containers behind them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from minecs.controlplane.services import is_steady
from tests.conftest import TEST_LABEL_KEY, free_port


class Up:
    def __init__(self, data_dir: Path, port: int, *extra: str) -> None:
        self.data_dir, self.port = data_dir, port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "minecs.cli",
                "up",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--publish-address",
                "127.0.0.1",
                "--pull-behavior",
                "prefer-cached",
                "--label",
                f"{TEST_LABEL_KEY}=1",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "MINECS_LOG_FORMAT": "json"},
        )
        self.call("GET", "/healthz", auth=None, wait_for_server=True)
        self._wait_for_agent()

    def _wait_for_agent(self) -> None:
        """The controller answers before its agent has registered; tests need both."""
        deadline = time.monotonic() + 30
        while not (self.data_dir / "agent" / "instance.json").exists():
            assert time.monotonic() < deadline, "the agent never registered"
            time.sleep(0.1)
        while not self.call("GET", "/v1/instances")[1]["containerInstances"]:
            assert time.monotonic() < deadline, "the instance never appeared"
            time.sleep(0.1)

    def admin(self) -> str:
        lines = dict(
            line.split(" = ")
            for line in (self.data_dir / "credentials").read_text().splitlines()
            if " = " in line
        )
        return f"MinecsAdmin {lines['aws_access_key_id']}:{lines['aws_secret_access_key']}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: str | None = "admin",
        wait_for_server: bool = False,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = self.admin() if auth == "admin" else auth
        data = json.dumps(body).encode() if body is not None else None
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())
            except OSError:
                if not wait_for_server or time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.2)

    def wait_task(self, task_id: str, status: str, within: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            _, body = self.call("GET", f"/v1/tasks/{task_id}")
            if body["task"]["lastStatus"] == status or time.monotonic() > deadline:
                assert body["task"]["lastStatus"] == status, body
                return dict(body["task"])
            time.sleep(0.3)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=60)
        self.stderr = stderr
        return self.process.returncode


@pytest.fixture
def up(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[Up]:
    running = Up(tmp_path / "minecs", free_port())
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


WEB = {
    "family": "web",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "minecs/busybox:latest",
            "memory": 32,
            "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
            "portMappings": [{"containerPort": 8080}],
            "stopTimeout": 2,
        }
    ],
}


def test_run_a_task_through_the_controller_and_reach_it(up: Up, docker_client: docker.DockerClient) -> None:
    assert up.call("POST", "/v1/taskdefinitions", WEB)[0] == 200
    status, ran = up.call("POST", "/v1/tasks", {"taskDefinition": "web", "startedBy": "test"})
    assert status == 200, ran
    task_id = ran["tasks"][0]["taskArn"].rsplit("/", 1)[-1]
    running = up.wait_task(task_id, "RUNNING")
    (container,) = running["containers"]
    (binding,) = container["networkBindings"]
    with urllib.request.urlopen(f"http://127.0.0.1:{binding['hostPort']}/", timeout=5) as response:
        assert b"minecs busybox" in response.read()
    labels = docker_client.containers.get(container["runtimeId"]).labels
    assert labels["com.amazonaws.ecs.task-arn"] == running["taskArn"]
    assert up.call("POST", f"/v1/tasks/{task_id}/stop", {"reason": "done testing"})[0] == 200
    stopped = up.wait_task(task_id, "STOPPED")
    assert (stopped["stoppedReason"], stopped["stopCode"]) == ("done testing", "UserInitiated")


def test_wrong_or_missing_credentials_are_refused(up: Up) -> None:
    for auth in (None, "MinecsAdmin AKNOPE:wrong", "Bearer nothing"):
        status, body = up.call("GET", "/v1/tasks", auth=auth)
        assert (status, body["code"]) == (401, "UnrecognizedClientException")
    identity = json.loads((up.data_dir / "agent" / "instance.json").read_text())
    mine = f"MinecsAgent {identity['instanceId']}:{identity['credential']}"
    assert up.call("POST", f"/agent/v1/instances/{identity['instanceId']}/heartbeat", {}, auth=mine)[0] == 200
    status, body = up.call("POST", "/agent/v1/instances/someone-else/heartbeat", {}, auth=mine)
    assert (status, body["code"]) == (403, "AccessDeniedException")
    status, _ = up.call(
        "POST",
        f"/agent/v1/instances/{identity['instanceId']}/heartbeat",
        {},
        auth=f"MinecsAgent {identity['instanceId']}:guess",
    )
    assert status == 401
    _, token = up.call("POST", "/v1/tokens", {"uses": 1})
    registration = {"cluster": "default", "resources": {"cpu": 1024, "memory": 512}}
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token['token']}")[0] == 200
    status, body = up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token['token']}")
    assert (status, body["code"]) == (403, "AccessDeniedException")
    status, body = up.call("POST", "/v1/tasks", {"taskDefinition": "nope"})
    assert (status, body["code"], body["message"]) == (
        400,
        "ClientException",
        "Unable to describe task definition.",
    )
    status, body = up.call(
        "POST", "/v1/taskdefinitions", {"family": "x", "containerDefinitions": [{"name": "a"}]}
    )
    assert status == 400
    assert body["problems"][0]["path"] == "containerDefinitions[0].image"


def test_a_restarted_up_keeps_its_instance_and_its_task(up: Up, tmp_path: Path) -> None:
    up.call("POST", "/v1/taskdefinitions", WEB)
    _, ran = up.call("POST", "/v1/tasks", {"taskDefinition": "web"})
    task_id = ran["tasks"][0]["taskArn"].rsplit("/", 1)[-1]
    first = up.wait_task(task_id, "RUNNING")
    _, before = up.call("GET", "/v1/instances")
    assert up.stop() == 0
    again = Up(up.data_dir, up.port)
    try:
        _, after = again.call("GET", "/v1/instances")
        assert [i["instanceId"] for i in after["containerInstances"]] == [
            i["instanceId"] for i in before["containerInstances"]
        ]
        still = again.wait_task(task_id, "RUNNING")
        assert still["containers"][0]["runtimeId"] == first["containers"][0]["runtimeId"]
    finally:
        assert again.stop() == 0


def test_token_create_from_the_cli(up: Up) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "minecs.cli",
            "token",
            "create",
            "--uses",
            "2",
            "--endpoint",
            f"http://127.0.0.1:{up.port}",
            "--data-dir",
            str(up.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("mcr-")
    registration = {"cluster": "default", "resources": {"cpu": 1024, "memory": 512}}
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token}")[0] == 200
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token}")[0] == 200
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token}")[0] == 403


def _service(up: Up, name: str) -> dict[str, Any] | None:
    status, body = up.call("GET", f"/v1/services/{name}")
    return dict(body["service"]) if status == 200 else None  # not applied yet


def _wait_service(up: Up, name: str, done: Any, within: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        service = _service(up, name)
        if service is not None and done(service):
            return service
        assert time.monotonic() < deadline, json.dumps(service)[:3000]
        time.sleep(0.5)


def test_up_applies_the_examples_and_keeps_the_service_whole(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    examples = Path(__file__).resolve().parents[2] / "manifests" / "examples"
    up = Up(tmp_path / "minecs", free_port(), "--apply", str(examples))
    try:
        service = _wait_service(up, "demo-web", is_steady)
        assert service["runningCount"] == 2
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "minecs.cli",
                "get",
                "services",
                "--endpoint",
                f"http://127.0.0.1:{up.port}",
                "--data-dir",
                str(up.data_dir),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[1].split() == ["demo-web", "2", "2", "0", "COMPLETED"]
        _, tasks = up.call("GET", "/v1/tasks")
        victim = next(
            t for t in tasks["tasks"] if t["group"] == "service:demo-web" and t["lastStatus"] == "RUNNING"
        )
        web = next(c for c in victim["containers"] if c["name"] == "web")
        docker_client.containers.get(web["runtimeId"]).remove(force=True)
        replaced = _wait_service(
            up,
            "demo-web",
            lambda s: is_steady(s) and any("has started 1 tasks" in e["message"] for e in s["events"]),
        )
        assert replaced["runningCount"] == 2
        _, after = up.call("GET", f"/v1/tasks/{victim['taskArn'].rsplit('/', 1)[-1]}")
        assert after["task"]["lastStatus"] in ("STOPPING", "STOPPED")
    finally:
        assert up.stop() == 0


def _manifests(command: list[str]) -> list[dict[str, Any]]:
    web = {
        "name": "web",
        "image": "minecs/busybox:latest",
        "memory": 32,
        "command": command,
        "stopTimeout": 2,
        "portMappings": [{"containerPort": 8080}],
        "healthCheck": {
            "command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
            "interval": 5,
            "timeout": 2,
        },
    }
    return [
        {
            "apiVersion": "minecs.dev/v1",
            "kind": "TaskDefinition",
            "metadata": {"name": "breaker"},
            "spec": {"containerDefinitions": [web]},
        },
        {
            "apiVersion": "minecs.dev/v1",
            "kind": "Service",
            "metadata": {"name": "breaker"},
            "spec": {
                "taskDefinition": "breaker",
                "desiredCount": 2,
                "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
            },
        },
    ]


def test_a_crashing_revision_trips_the_circuit_breaker_and_rolls_back(up: Up) -> None:
    assert (
        up.call(
            "POST", "/v1/apply", {"documents": _manifests(["httpd", "-f", "-p", "8080", "-h", "/var/www"])}
        )[0]
        == 200
    )
    first = _wait_service(up, "breaker", is_steady)
    assert first["taskDefinition"].endswith("task-definition/breaker:1")
    status, applied = up.call("POST", "/v1/apply", {"documents": _manifests(["sh", "-c", "exit 1"])})
    assert status == 200, applied
    assert [r["outcome"] for r in applied["results"]] == ["created", "configured"]
    seen_failed: list[str] = []

    def rolled_back(service: dict[str, Any]) -> bool:
        seen_failed.extend(
            d["rolloutStateReason"] for d in service["deployments"] if d["rolloutState"] == "FAILED"
        )
        return is_steady(service) and any(
            "deployment failed: tasks failed to start." in e["message"] for e in service["events"]
        )

    final = _wait_service(up, "breaker", rolled_back, within=240)
    assert final["deployments"][0]["taskDefinition"].endswith("task-definition/breaker:1")
    assert final["runningCount"] == 2
    assert any(
        e["message"].startswith("(service breaker) rolling back to deployment") for e in final["events"]
    )
    assert "ECS deployment circuit breaker: tasks failed to start." in seen_failed
