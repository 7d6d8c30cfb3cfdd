"""``minecs up`` as a real process: controller + agent over real HTTP, real containers behind them."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import docker

from minecs.controlplane.services import is_steady
from tests.conftest import free_port
from tests.integration.processes import Up

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


STUBBORN = {
    "family": "stubborn",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "stopTimeout": 25,
            "command": ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"],
        }
    ],
}


def test_up_exits_within_10_s_of_sigterm_while_a_container_stop_is_in_flight(
    up: Up, docker_client: docker.DockerClient
) -> None:
    """The container ignores SIGTERM, so Docker's stop waits its 25 s before SIGKILL; the daemon does
    not wait with it. The next start finishes the stop that was asked for."""
    up.ok("POST", "/v1/taskdefinitions", STUBBORN)
    task_id = up.ok("POST", "/v1/tasks", {"taskDefinition": "stubborn"})["tasks"][0]["taskArn"].rsplit(
        "/", 1
    )[-1]
    runtime_id = up.wait_task(task_id, "RUNNING")["containers"][0]["runtimeId"]
    up.ok("POST", f"/v1/tasks/{task_id}/stop", {})
    up.wait(lambda: "task stopping" in (up.log.read_text() if up.log else ""), 30, "the agent began the stop")
    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(timeout=10) == 0
    assert docker_client.containers.get(runtime_id).status == "running"  # the stop was still in flight
    said = up.log.read_text() if up.log else ""
    assert '"event": "stopping"' in said, said[-2000:]  # a stop that takes a while is never silent
    left = [json.loads(line) for line in said.splitlines() if "container stops left in flight" in line]
    assert [(e["containers"], e["stop_timeout"]) for e in left] == [(1, 25)], said[-2000:]
    again = Up(up.data_dir, up.port)
    try:
        assert again.wait_task(task_id, "STOPPED", within=90)["desiredStatus"] == "STOPPED"
    finally:
        assert again.stop() == 0


def test_token_create_from_the_cli(up: Up) -> None:
    done = up.cli("token", "create", "--uses", "2")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("mcr-")
    registration = {"cluster": "default", "resources": {"cpu": 1024, "memory": 512}}
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token}")[0] == 200
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token}")[0] == 200
    assert up.call("POST", "/agent/v1/register", registration, auth=f"Bearer {token}")[0] == 403


def test_up_applies_the_examples_and_keeps_the_service_whole(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    examples = Path(__file__).resolve().parents[2] / "manifests" / "examples"
    up = Up(tmp_path / "minecs", free_port(), "--apply", str(examples))
    try:
        service = up.wait_service("demo-web", is_steady)
        assert service["runningCount"] == 2
        done = up.cli("get", "services")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[1].split() == ["demo-web", "2", "2", "0", "COMPLETED"]
        _, tasks = up.call("GET", "/v1/tasks")
        victim = next(
            t for t in tasks["tasks"] if t["group"] == "service:demo-web" and t["lastStatus"] == "RUNNING"
        )
        web = next(c for c in victim["containers"] if c["name"] == "web")
        docker_client.containers.get(web["runtimeId"]).remove(force=True)
        replaced = up.wait_service(
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
    first = up.wait_service("breaker", is_steady)
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

    final = up.wait_service("breaker", rolled_back, within=240)
    assert final["deployments"][0]["taskDefinition"].endswith("task-definition/breaker:1")
    assert final["runningCount"] == 2
    assert any(
        e["message"].startswith("(service breaker) rolling back to deployment") for e in final["events"]
    )
    # The rollback re-promotes the deployment whose tasks still serve, so it completes within a pass
    # or two and the FAILED one is listed only that long: when a poll saw it, it said why.
    assert set(seen_failed) <= {"ECS deployment circuit breaker: tasks failed to start."}
