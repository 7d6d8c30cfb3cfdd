"""The CLI's views: kubectl-style tables (table and wide), YAML/JSON, describe with events, ages."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import yaml

from minecs.cli.views import age, describe, events_table, render


def service() -> dict[str, Any]:
    """A described service, its times relative to now (collection may happen minutes before the test)."""
    return {
        "serviceName": "demo-web",
        "status": "ACTIVE",
        "taskDefinition": "arn:aws:ecs:us-east-1:000000000000:task-definition/demo-web:3",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "schedulingStrategy": "REPLICA",
        "createdAt": time.time() - 120,
        "deployments": [
            {
                "id": "ecs-svc/0000000000000000001",
                "status": "PRIMARY",
                "rolloutState": "COMPLETED",
                "taskDefinition": "arn:aws:ecs:us-east-1:000000000000:task-definition/demo-web:3",
                "desiredCount": 2,
                "runningCount": 2,
                "pendingCount": 0,
                "failedTasks": 0,
            }
        ],
        "events": [
            {
                "id": "2",
                "createdAt": time.time() - 5,
                "message": "(service demo-web) has reached a steady state.",
            },
            {
                "id": "1",
                "createdAt": time.time() - 60,
                "message": "(service demo-web) has started 2 tasks: (task a).",
            },
        ],
    }


def test_a_table_aligns_columns_and_wide_adds_its_own() -> None:
    lines = render("services", [service()], "table").splitlines()
    assert lines[0].split() == ["NAME", "DESIRED", "RUNNING", "PENDING", "ROLLOUT"]
    assert lines[1].split() == ["demo-web", "2", "2", "0", "COMPLETED"]
    assert lines[0].index("DESIRED") == lines[1].index("2")
    wide = render("services", [service()], "wide").splitlines()
    assert wide[0].split()[5:] == ["TASKDEF", "STRATEGY", "STATUS", "DEPLOYMENTS", "AGE"]
    assert wide[1].split()[5:] == ["demo-web:3", "REPLICA", "ACTIVE", "1", "2m"]


def test_json_and_yaml_give_the_ecs_shape_back_with_iso_times() -> None:
    """Times as the aws CLI prints them (ISO 8601 with the offset), everything else as the API gave it."""
    shown = service()
    expected = {
        **shown,
        "createdAt": datetime.fromtimestamp(shown["createdAt"], UTC).isoformat(),
        "events": [
            {**e, "createdAt": datetime.fromtimestamp(e["createdAt"], UTC).isoformat()}
            for e in shown["events"]
        ],
    }
    assert json.loads(render("services", [shown], "json")) == [expected]
    assert yaml.safe_load(render("services", [shown], "yaml")) == [expected]
    assert expected["createdAt"].endswith("+00:00")


def test_describe_shows_times_a_person_reads() -> None:
    text = describe({"serviceName": "x", "createdAt": 1_764_750_611.5}, now=1_764_750_611.5 + 300)
    assert "createdAt: 2025-12-03 08:30:11 UTC (5m ago)" in text


def test_a_stopped_task_shows_no_health() -> None:
    task = {
        "taskArn": "arn:aws:ecs:us-east-1:000000000000:task/default/" + "a" * 32,
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "healthStatus": "UNKNOWN",
        "containers": [{"name": "web", "healthStatus": "UNKNOWN"}],
    }
    assert render("tasks", [task], "table").splitlines()[1].split()[4] == "-"
    assert "healthStatus" not in describe(task)
    running = {**task, "lastStatus": "RUNNING", "healthStatus": "HEALTHY"}
    assert render("tasks", [running], "table").splitlines()[1].split()[4] == "HEALTHY"
    assert "healthStatus: HEALTHY" in describe(running)


def test_describe_shows_the_object_its_deployments_and_events_newest_last() -> None:
    text = describe(service())
    assert "serviceName: demo-web" in text
    deployments = text.split("Deployments:\n")[1].split("Events:")[0]
    assert "ecs-svc/0000000000000000001  PRIMARY  COMPLETED" in deployments
    events = [line.split(None, 1) for line in text.split("Events:\n")[1].splitlines()]
    assert [message for _, message in events] == [
        "(service demo-web) has started 2 tasks: (task a).",
        "(service demo-web) has reached a steady state.",
    ]
    assert events[0][0] == "1m"
    assert events_table([]) == "<none>"


def test_ages_read_like_kubectl() -> None:
    now = 1_000_000.0
    assert [age(now - s, now) for s in (3, 59, 61, 3600 * 5, 86400 * 3)] == ["3s", "59s", "1m", "5h", "3d"]
    assert age(None) == "-"
