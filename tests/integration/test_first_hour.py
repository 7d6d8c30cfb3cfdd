"""Issue 21, the first hour, from the user's side: ``minecs up`` and the CLI as processes, read as text.

``make up`` runs ``minecs up --seed manifests/examples``: the demo objects are created on the first
start and never applied over what the user changed afterwards (a new revision, a scale).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import yaml

from minecs.controlplane.services import is_steady
from tests.conftest import free_port
from tests.integration.agent.test_agent_restart import AgentProcess
from tests.integration.processes import Up

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"


def _changed_demo(tmp_path: Path) -> Path:
    """The demo with one more environment variable in its web container: what a user edits and
    applies (the service, given the bare family, follows it to revision 2)."""
    documents = list(yaml.safe_load_all((EXAMPLES / "demo.yaml").read_text()))
    (taskdef,) = [d for d in documents if d["kind"] == "TaskDefinition"]
    web = next(c for c in taskdef["spec"]["containerDefinitions"] if c["name"] == "web")
    web["environment"] = [{"name": "GREETING", "value": "mine"}]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return path


def _revisions(up: Up) -> list[int]:
    arns = up.ok("GET", "/v1/taskdefinitions")["taskDefinitionArns"]
    return sorted(int(arn.rsplit(":", 1)[-1]) for arn in arns if "/demo-web:" in arn)


def test_a_second_up_keeps_the_users_revision_and_scale(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "minecs", free_port()
    first = Up(data_dir, port, "--seed", str(EXAMPLES), log=tmp_path / "first.log")
    try:
        first.wait_steady("demo-web")
        applied = first.cli("apply", "-f", str(_changed_demo(tmp_path)))
        assert applied.returncode == 0, applied.stderr
        scaled = first.cli("scale", "demo-web", "3")
        assert scaled.returncode == 0, scaled.stderr
        mine = first.wait_service(
            "demo-web",
            lambda s: s["taskDefinition"].endswith(":2") and s["runningCount"] == 3 and is_steady(s),
        )
    finally:
        assert first.stop() == 0
    again = Up(data_dir, port, "--seed", str(EXAMPLES), log=tmp_path / "again.log")
    try:
        log = tmp_path / "again.log"
        said: str = again.wait(
            lambda: log.read_text() if "left as they are" in log.read_text() else None,
            60,
            "the second start's apply report",
        )
        assert "service/demo-web" in said
        assert "taskdefinition/demo-web" in said
        assert " created" not in said, said
        assert " configured" not in said, said
        after = again.wait_steady("demo-web")
        assert (after["taskDefinition"], after["desiredCount"]) == (mine["taskDefinition"], 3)
        assert _revisions(again) == [1, 2]
    finally:
        assert again.stop() == 0


def test_the_demo_stops_on_sigterm_not_after_its_stop_timeout(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    """httpd and sh as PID 1 ignore SIGTERM, so Docker would wait stopTimeout and SIGKILL them (exit
    137). With an init process the web server dies of the TERM itself (128 + 15) and the sidecar's
    trap exits 0."""
    up = Up(tmp_path / "minecs", free_port(), "--seed", str(EXAMPLES), log=tmp_path / "up.log")
    try:
        up.wait_steady("demo-web")
        task: dict[str, Any] = up.live("service:demo-web")[0]
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        stopped = up.cli("stop-task", task_id, "--reason", "test")
        assert stopped.returncode == 0, stopped.stderr
        done = up.wait_task(task_id, "STOPPED", within=60)
        codes = {c["name"]: c.get("exitCode") for c in done["containers"]}
        assert codes == {"init": 0, "web": 143, "log-sidecar": 0}, codes
    finally:
        assert up.stop() == 0


SCRATCH: dict[str, Any] = {
    "family": "scratch",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait $!"],
            "mountPoints": [
                {"sourceVolume": "cache", "containerPath": "/cache"},
                {"sourceVolume": "data", "containerPath": "/data"},
            ],
        }
    ],
    "volumes": [
        {"name": "cache"},
        {"name": "data", "dockerVolumeConfiguration": {"scope": "task", "driver": "local"}},
    ],
}


def test_a_stopped_tasks_containers_and_volumes_go_after_the_cleanup_wait_across_a_restart(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    """ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION's job (here 6 s, agent.engine.cleanup_wait): the task's
    containers and its task-scoped volumes are removed, also when the agent restarted meanwhile."""
    data_dir, port, env = tmp_path / "minecs", free_port(), {"MINECS_AGENT_ENGINE_CLEANUP_WAIT": "6"}
    first = Up(data_dir, port, env=env, log=tmp_path / "first.log")
    try:
        first.ok("POST", "/v1/taskdefinitions", SCRATCH)
        (task,) = first.ok("POST", "/v1/tasks", {"taskDefinition": "scratch"})["tasks"]
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        first.wait_task(task_id, "RUNNING")
        selector: dict[str, str | list[str] | bool] = {"label": f"minecs.task-id={task_id}"}
        volumes = {v.name for v in docker_client.volumes.list(filters=selector)}
        assert len(volumes) == 2, volumes  # the bare volume and the task-scoped one
        first.ok("POST", f"/v1/tasks/{task_id}/stop", {})
        first.wait_task(task_id, "STOPPED")
        assert docker_client.containers.list(all=True, filters=selector)  # kept for the wait
    finally:
        assert first.stop() == 0
    again = Up(data_dir, port, env=env, log=tmp_path / "again.log")
    try:
        again.wait(
            lambda: (
                not docker_client.containers.list(all=True, filters=selector)
                and not docker_client.volumes.list(filters=selector)
            ),
            60,
            "the stopped task's containers and volumes removed",
        )
    finally:
        assert again.stop() == 0


def _without_aws(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with nothing that would point an AWS tool anywhere: a fresh login shell's."""
    return {k: v for k, v in environ.items() if not k.startswith(("AWS_", "MINECS_", "BOTO"))}


def test_the_aws_cli_and_boto3_reach_minecs_with_only_the_files_up_wrote(up: Up) -> None:
    """``. <data-dir>/aws.env`` (AWS_ENDPOINT_URL_ECS, the profile and both files): no --endpoint-url."""
    env_file = up.data_dir / "aws.env"
    aws = str(Path(sys.executable).with_name("aws"))
    listed = subprocess.run(
        ["bash", "-c", f". {env_file} && {aws} ecs list-clusters --output json"],
        capture_output=True,
        text=True,
        env=_without_aws(os.environ),
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["clusterArns"] == ["arn:aws:ecs:us-east-1:000000000000:cluster/default"]
    # boto3 with the config file alone (its [services] endpoint_url), no variable naming the endpoint.
    script = "import boto3; print(boto3.Session().client('ecs').list_clusters()['clusterArns'])"
    env = {
        **_without_aws(os.environ),
        "AWS_CONFIG_FILE": str(up.data_dir / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(up.data_dir / "credentials"),
        "AWS_PROFILE": "minecs",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['arn:aws:ecs:us-east-1:000000000000:cluster/default']"


def test_exec_into_a_task_run_without_it_says_how_to_enable_it(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", SCRATCH)
    (task,) = up.ok("POST", "/v1/tasks", {"taskDefinition": "scratch"})["tasks"]
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    up.wait_task(task_id, "RUNNING")
    refused = up.cli("exec", task_id, "-c", "app", "--", "true")
    assert refused.returncode == 1
    # ECS's own sentence first, then where the switch is.
    assert "execute command was not enabled when the task was run" in refused.stderr
    assert "minecs run-task --enable-execute-command" in refused.stderr, refused.stderr


def test_agent_static_runs_the_example_stops_a_deleted_file_and_names_a_bad_files_member(
    tmp_path: Path,
) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    example = tasks / "web.yaml"
    example.write_text((EXAMPLES.parent / "static" / "web.yaml").read_text())
    (tasks / "bad.yaml").write_text(
        "taskDefinition:\n  family: bad\n  containerDefinitions:\n"
        "    - {name: app, image: minecs/busybox:latest, memory: lots}\n"
    )
    agent = AgentProcess(tasks, tmp_path / "static", "static")
    try:
        (arn,) = agent.latest_until(lambda seen: _with(seen, "RUNNING")).keys()
        example.unlink()
        stopped = agent.latest_until(lambda seen: _with(seen, "STOPPED"))[arn]
        assert stopped["stoppedReason"] == "Task file removed"
    finally:
        agent.kill(signal.SIGTERM)
    said = [json.loads(line) for line in agent.log.read_text().splitlines() if line.startswith("{")]
    refusals = [s for s in said if s.get("event") == "task file refused"]
    assert [(Path(r["file"]).name, r["member"]) for r in refusals] == [
        ("bad.yaml", "taskDefinition.containerDefinitions[0].memory")
    ]


def _containers(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(definition["containerDefinitions"])


def _with(seen: Mapping[str, Any], status: str) -> bool:
    return bool(seen) and all(s["lastStatus"] == status for s in seen.values())


def test_run_task_wait_ends_with_the_reason_where_the_user_looks(up: Up) -> None:
    """The waiting command prints what describe task knows: the definition that is not there, the
    exit code of an essential container, why a task cannot be placed."""
    missing = up.cli("run-task", "nosuchtd", "--wait")
    assert missing.returncode == 1
    assert "task definition 'nosuchtd' not found" in missing.stderr, missing.stderr
    # 'later' waits for app to be HEALTHY, which it never is (it exits long before its first check),
    # so the task is never RUNNING (the minimum over its containers) and the wait cannot end on a
    # RUNNING seen between app's start and its exit.
    check = {"command": ["CMD-SHELL", "true"], "interval": 30, "startPeriod": 60}
    app: dict[str, Any] = {**_containers(SCRATCH)[0], "command": ["sh", "-c", "exit 3"], "healthCheck": check}
    later = {
        **_containers(SCRATCH)[0],
        "name": "later",
        "command": ["sleep", "60"],
        "dependsOn": [{"containerName": "app", "condition": "HEALTHY"}],
    }
    crashing = {**SCRATCH, "family": "crashing", "containerDefinitions": [app, later]}
    up.ok("POST", "/v1/taskdefinitions", crashing)
    crashed = up.cli("run-task", "crashing", "--wait", timeout=120)
    assert crashed.returncode == 1
    assert (
        "STOPPED (EssentialContainerExited): Essential container in task exited; app: exit code 3"
        in crashed.stderr
    ), crashed.stderr
    huge = up.cli("run-task", "crashing", "--memory", "4000000", "--wait", "--timeout", "5", timeout=120)
    assert huge.returncode == 1
    assert "timed out after 5 s" in huge.stderr, huge.stderr
    assert "insufficient memory" in huge.stderr, huge.stderr
