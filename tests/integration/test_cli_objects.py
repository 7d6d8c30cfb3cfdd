"""The object CLI against ``minecs up`` and real containers: run-task, get, describe, logs, stop-task."""

from __future__ import annotations

import json
import time

import yaml

from tests.integration.processes import Up

TALKER = {
    "family": "talker",
    "containerDefinitions": [
        {
            "name": "talker",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "stopTimeout": 2,
            "command": ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"],
        },
        {
            "name": "web",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "stopTimeout": 2,
            "essential": False,
            "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
            "portMappings": [{"containerPort": 8080}],
        },
    ],
}


def test_run_get_describe_logs_and_stop_from_the_cli(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", TALKER)
    ran = up.cli("run-task", "talker", "--wait", "--started-by", "cli-test", "-o", "yaml")
    assert ran.returncode == 0, ran.stderr
    (task,) = yaml.safe_load(ran.stdout)
    task_id = task["taskArn"].rsplit("/", 1)[-1]

    wide = up.cli("get", "tasks", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:7] == ["ID", "TASKDEF", "STATUS", "DESIRED", "HEALTH", "GROUP", "AGE"]
    row = next(line for line in wide if line.startswith(task_id))
    for shown_value in ("talker:1", "RUNNING", "cli-test", "127.0.0.1:", "->8080"):  # port on loopback
        assert shown_value in row

    described = up.cli("describe", "task", task_id)
    assert described.returncode == 0, described.stderr
    shown = yaml.safe_load(described.stdout)
    assert [c["name"] for c in shown["containers"]] == ["talker", "web"]

    defaulted = up.cli("logs", task_id, "--tail", "1")  # web is not essential: talker is the one
    assert defaulted.returncode == 0, defaulted.stderr
    assert 'showing container "talker" (the task\'s only essential container)' in defaulted.stderr
    time.sleep(1)
    printed = up.cli("logs", task_id, "-c", "talker", "--tail", "3")
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("line ") for line in lines)

    with up.follow("logs", task_id, "-c", "talker", "-f", "--tail", "1") as follow:
        try:
            assert follow.stdout is not None
            seen = [int(follow.stdout.readline().split()[1]) for _ in range(4)]
            assert seen == list(range(seen[0], seen[0] + 4))  # new lines arrive in order as written
        finally:
            follow.terminate()

    stopped = up.cli("stop-task", task_id, "--reason", "done with it")
    assert (stopped.returncode, stopped.stdout.strip()) == (0, f"task/{task_id} stopping (done with it)")
    final = up.wait_task(task_id, "STOPPED")
    assert (final["stopCode"], final["stoppedReason"]) == ("UserInitiated", "done with it")
    after = up.cli("logs", task_id, "-c", "talker", "--tail", "1")
    assert after.returncode == 0  # a stopped task's containers stay until cleanup, as in ECS
    assert after.stdout.startswith("line ")


def test_get_every_kind_in_every_output(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", TALKER)
    for kind in ("clusters", "taskdefs", "tasks", "services", "instances"):
        for output in ("table", "wide", "json", "yaml"):
            done = up.cli("get", kind, "-o", output)
            assert done.returncode == 0, (kind, output, done.stderr)
    instances = yaml.safe_load(up.cli("get", "instances", "-o", "yaml").stdout)
    assert instances[0]["agentConnected"] is True
    memory_left = next(r for r in instances[0]["remainingResources"] if r["name"] == "MEMORY")
    assert (
        0
        < memory_left["integerValue"]
        <= next(r["integerValue"] for r in instances[0]["registeredResources"] if r["name"] == "MEMORY")
    )
    wide = up.cli("get", "instances", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[4:6] == ["CPU-FREE", "MEMORY-FREE"]
    assert wide[1].split()[5] == str(memory_left["integerValue"])
    table = up.cli("get", "taskdefs").stdout.splitlines()
    assert table == ["NAME", "talker:1"]
    described = up.cli("describe", "instance", instances[0]["instanceId"])
    assert yaml.safe_load(described.stdout)["status"] == "ACTIVE"
    sized = up.cli("run-task", "talker", "--cpu", "0.25 vCPU", "--memory", "256", "--wait", "-o", "json")
    assert sized.returncode == 0, sized.stderr
    (task,) = json.loads(sized.stdout)
    assert "all tasks RUNNING" in sized.stderr
    assert (task["cpu"], task["memory"], task["overrides"]["memory"]) == ("256", "256", "256")
    bad = up.cli("run-task", "talker", "--memory", "lots")
    assert (bad.returncode, bad.stderr.strip()) == (
        1,
        "minecs: ClientException: overrides.memory: 'lots' is not a valid size.",
    )
    missing = up.cli("describe", "service", "nope")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "minecs: ServiceNotFoundException: Service not found.",
    )


def test_events_follow_prints_task_events_as_they_happen_newest_last(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", TALKER)
    with up.follow("events", "--follow") as follow:
        try:
            assert follow.stdout is not None
            assert follow.stdout.readline().strip() == "<none>"  # nothing happened yet
            task = up.ok("POST", "/v1/tasks", {"taskDefinition": "talker"})["tasks"][0]
            task_id = task["taskArn"].rsplit("/", 1)[-1]
            seen: list[str] = []
            while not any(line.endswith(f"(task {task_id}) talker:1 started.") for line in seen):
                seen.append(follow.stdout.readline().rstrip())
            created = next(
                i for i, line in enumerate(seen) if line.endswith(f"(task {task_id}) talker:1 created.")
            )
            started = next(i for i, line in enumerate(seen) if line.endswith("started."))
            assert created < started  # oldest first, as kubectl prints events
        finally:
            follow.terminate()
