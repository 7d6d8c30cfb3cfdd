"""Unmodified boto3 and aws CLI against ``minecs up``, with real containers behind the answers.

The clients read the admin credential from the generated ``<data-dir>/credentials`` (AWS format,
profile ``minecs``) and talk to the controller with ``--endpoint-url``. boto3's waiters run with a
short delay; the aws CLI's waiters keep their own (6 s for tasks, 15 s for services).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ecsmodel import RawAnswers
from tests.integration.processes import Up
from tests.integration.watch import ecs_client as client_for
from tests.taskdefs import web

WEB = {"family": "ecs-web", "containerDefinitions": [web(portMappings=[{"containerPort": 8080}])]}
FAST = {"WaiterConfig": {"Delay": 1, "MaxAttempts": 120}}


def aws_env(up: Up) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_SHARED_CREDENTIALS_FILE": str(up.data_dir / "credentials"),
        "AWS_PROFILE": "minecs",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
    }


def ecs_client(up: Up) -> Any:
    """A boto3 ECS client whose credentials come from the file minecs generated (profile minecs)."""
    return client_for(up.endpoint, str(up.data_dir / "credentials"))


def test_boto3_runs_waits_describes_and_stops_a_task(up: Up) -> None:
    """... and every raw answer, with a real agent's reports behind it, has botocore's ECS shape."""
    ecs = ecs_client(up)
    raw = RawAnswers(ecs)
    registered = ecs.register_task_definition(**WEB)["taskDefinition"]
    assert registered["taskDefinitionArn"].endswith(":task-definition/ecs-web:1")
    task_arn = ecs.run_task(taskDefinition="ecs-web", startedBy="boto3")["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(tasks=[task_arn], **FAST)
    (task,) = ecs.describe_tasks(tasks=[task_arn])["tasks"]
    (container,) = task["containers"]
    (binding,) = container["networkBindings"]
    assert (binding["containerPort"], binding["bindIP"]) == (8080, "127.0.0.1")
    assert container["runtimeId"]
    assert container["healthStatus"] in ("UNKNOWN", "HEALTHY")  # checks every 5 s, first one may be pending
    ecs.get_waiter("tasks_running").wait(tasks=[task_arn], **FAST)
    deadline = time.monotonic() + 60
    while ecs.describe_tasks(tasks=[task_arn])["tasks"][0]["healthStatus"] != "HEALTHY":
        assert time.monotonic() < deadline, "the task never turned HEALTHY"
        time.sleep(1)
    ecs.stop_task(task=task_arn, reason="boto3 says stop")
    ecs.get_waiter("tasks_stopped").wait(tasks=[task_arn], **FAST)
    stopped = ecs.describe_tasks(tasks=[task_arn])["tasks"][0]
    assert (stopped["stopCode"], stopped["stoppedReason"]) == ("UserInitiated", "boto3 says stop")
    with pytest.raises(ClientError) as caught:
        ecs.describe_services(cluster="nowhere", services=["x"])
    assert caught.value.response["Error"]["Code"] == "ClusterNotFoundException"
    assert raw.violations() == []


def test_boto3_service_stable_then_rolled_to_a_new_revision(up: Up) -> None:
    ecs = ecs_client(up)
    raw = RawAnswers(ecs)
    ecs.register_task_definition(**WEB)
    ecs.create_service(serviceName="rolling", taskDefinition="ecs-web", desiredCount=2)
    ecs.get_waiter("services_stable").wait(services=["rolling"], **FAST)
    # services-stable counts tasks only (as in ECS); the rollout is COMPLETED once they are HEALTHY.
    completed(ecs, "rolling")
    second = json.loads(json.dumps(WEB))
    second["containerDefinitions"][0]["environment"] = [{"name": "REVISION", "value": "2"}]
    ecs.register_task_definition(**second)
    seen: list[list[tuple[str, str]]] = []
    done = threading.Event()

    def watch() -> None:
        client = ecs_client(up)
        while not done.is_set():
            service = client.describe_services(services=["rolling"])["services"][0]
            seen.append(
                [(d["status"], d["taskDefinition"].rsplit(":", 1)[-1]) for d in service["deployments"]]
            )
            time.sleep(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        updated = ecs.update_service(service="rolling", taskDefinition="ecs-web")["service"]
        assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
        ecs.get_waiter("services_stable").wait(services=["rolling"], **FAST)
    finally:
        done.set()
        watcher.join()
    final = completed(ecs, "rolling")
    assert [(d["status"], d["rolloutState"]) for d in final["deployments"]] == [("PRIMARY", "COMPLETED")]
    assert final["taskDefinition"].endswith("ecs-web:2")
    assert [("PRIMARY", "2"), ("ACTIVE", "1")] in seen  # both deployments were visible during the roll
    assert final["runningCount"] == 2
    messages = [e["message"] for e in final["events"]]
    assert "(service rolling) has reached a steady state." in messages
    assert raw.violations() == []


def completed(ecs: Any, name: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        service = ecs.describe_services(services=[name])["services"][0]
        if service["deployments"][0]["rolloutState"] == "COMPLETED":
            return service
        assert time.monotonic() < deadline, service["deployments"]
        time.sleep(0.5)


def aws(up: Up, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "ecs", *args, "--endpoint-url", up.endpoint, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=aws_env(up),
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_the_aws_cli_drives_the_same_flows(up: Up, tmp_path: Path) -> None:
    spec = tmp_path / "td.json"
    spec.write_text(json.dumps(WEB))
    registered = json.loads(aws(up, "register-task-definition", "--cli-input-json", f"file://{spec}").stdout)
    assert registered["taskDefinition"]["revision"] == 1
    task_arn = json.loads(aws(up, "run-task", "--task-definition", "ecs-web").stdout)["tasks"][0]["taskArn"]
    aws(up, "wait", "tasks-running", "--tasks", task_arn)
    described = json.loads(aws(up, "describe-tasks", "--tasks", task_arn).stdout)
    assert described["tasks"][0]["lastStatus"] == "RUNNING"
    assert isinstance(described["tasks"][0]["createdAt"], str | float)
    aws(up, "stop-task", "--task", task_arn, "--reason", "from the cli")
    aws(up, "wait", "tasks-stopped", "--tasks", task_arn)

    aws(up, "create-service", "--service-name", "cli", "--task-definition", "ecs-web", "--desired-count", "1")
    aws(up, "wait", "services-stable", "--services", "cli")
    aws(up, "update-service", "--service", "cli", "--desired-count", "2", "--force-new-deployment")
    aws(up, "wait", "services-stable", "--services", "cli")
    service = json.loads(aws(up, "describe-services", "--services", "cli").stdout)["services"][0]
    assert (service["runningCount"], len(service["deployments"])) == (2, 1)

    missing = aws(up, "describe-services", "--cluster", "nowhere", "--services", "cli", check=False)
    assert missing.returncode != 0
    assert "ClusterNotFoundException" in missing.stderr
    unsigned = aws(up, "list-clusters", "--no-sign-request", check=False)
    assert unsigned.returncode != 0
    assert "MissingAuthenticationTokenException" in unsigned.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "awscli", "ecs", "list-clusters", "--endpoint-url", up.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **{k: v for k, v in aws_env(up).items() if k != "AWS_PROFILE"},
            "AWS_ACCESS_KEY_ID": _key(up),
            "AWS_SECRET_ACCESS_KEY": "wrong",
        },
    )
    assert wrong.returncode != 0
    assert "InvalidSignatureException" in wrong.stderr


def _key(up: Up) -> str:
    text = (up.data_dir / "credentials").read_text()
    return next(line.split(" = ")[1] for line in text.splitlines() if line.startswith("aws_access_key_id"))
