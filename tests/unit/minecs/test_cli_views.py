"""The CLI's views: kubectl-style tables (table and wide), YAML/JSON, describe with events, ages."""

from __future__ import annotations

import json
import time
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


def test_json_and_yaml_give_the_ecs_shape_back() -> None:
    shown = service()
    assert json.loads(render("services", [shown], "json")) == [shown]
    assert yaml.safe_load(render("services", [shown], "yaml")) == [shown]


def test_describe_shows_the_object_its_deployments_and_newest_events_first() -> None:
    text = describe(service())
    assert "serviceName: demo-web" in text
    deployments = text.split("Deployments:\n")[1].split("Events:")[0]
    assert "ecs-svc/0000000000000000001  PRIMARY  COMPLETED" in deployments
    events = [line.split(None, 1) for line in text.split("Events:\n")[1].splitlines()]
    assert [message for _, message in events] == [
        "(service demo-web) has reached a steady state.",
        "(service demo-web) has started 2 tasks: (task a).",
    ]
    assert events[1][0] == "1m"
    assert events_table([]) == "<none>"


def test_ages_read_like_kubectl() -> None:
    now = 1_000_000.0
    assert [age(now - s, now) for s in (3, 59, 61, 3600 * 5, 86400 * 3)] == ["3s", "59s", "1m", "5h", "3d"]
    assert age(None) == "-"
