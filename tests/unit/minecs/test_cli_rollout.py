"""``minecs rollout``'s pure parts: the history of revisions a service ran, undo's target, the table."""

from __future__ import annotations

from typing import Any

from minecs.cli.rollout import Revision, history, history_table, previous


def _deployment(number: int, revision: int, created: float, status: str, state: str) -> dict[str, Any]:
    return {
        "id": f"ecs-svc/{number}",
        "taskDefinition": f"arn:aws:ecs:r:1:task-definition/demo-web:{revision}",
        "createdAt": created,
        "status": status,
        "rolloutState": state,
    }


def _task(deployment: int, revision: int, created: float, group: str = "service:demo-web") -> dict[str, Any]:
    return {
        "taskArn": f"arn:aws:ecs:r:1:task/default/t{deployment}-{created}",
        "taskDefinitionArn": f"arn:aws:ecs:r:1:task-definition/demo-web:{revision}",
        "group": group,
        "startedBy": f"ecs-svc/{deployment}",
        "createdAt": created,
    }


SERVICE = {
    "serviceName": "demo-web",
    "taskDefinition": "arn:aws:ecs:r:1:task-definition/demo-web:3",
    "deployments": [
        _deployment(3, 3, 300.0, "PRIMARY", "IN_PROGRESS"),
        _deployment(2, 2, 200.0, "ACTIVE", ""),
    ],
    "lastCompletedDeployment": "ecs-svc/2",
    "lastCompletedTaskDefinition": "arn:aws:ecs:r:1:task-definition/demo-web:2",
}


def test_history_reads_deployments_and_the_tasks_of_deployments_gone() -> None:
    tasks = [_task(1, 1, 110.0), _task(1, 1, 100.0), _task(9, 7, 50.0, group="family:other")]
    assert history(SERVICE, tasks) == [
        Revision("demo-web:1", 100.0, "INACTIVE"),
        Revision("demo-web:2", 200.0, "ACTIVE ()"),
        Revision("demo-web:3", 300.0, "PRIMARY (IN_PROGRESS)"),
    ]


def test_a_revision_run_twice_shows_once_at_its_latest_deployment() -> None:
    service = {
        **SERVICE,
        "taskDefinition": "arn:aws:ecs:r:1:task-definition/demo-web:2",
        "deployments": [_deployment(4, 2, 400.0, "PRIMARY", "COMPLETED")],
    }
    rows = history(service, [_task(2, 2, 200.0), _task(3, 3, 300.0)])
    assert [(r.task_definition, r.created) for r in rows] == [("demo-web:3", 300.0), ("demo-web:2", 400.0)]
    assert previous(rows, "demo-web:2") == Revision("demo-web:3", 300.0, "INACTIVE")  # undo again: back to 3


def test_undo_has_nowhere_to_go_when_only_the_current_revision_is_known() -> None:
    service = {**SERVICE, "deployments": [SERVICE["deployments"][0]], "lastCompletedDeployment": None}
    assert previous(history(service, []), "demo-web:3") is None


def test_the_history_table_has_kubectls_shape() -> None:
    lines = history_table(
        [Revision("demo-web:1", None, "INACTIVE"), Revision("demo-web:2", 0.5, "PRIMARY (COMPLETED)")]
    )
    assert lines.splitlines()[0].split() == ["REVISION", "TASKDEF", "CREATED", "STATUS"]
    assert lines.splitlines()[1].split() == ["1", "demo-web:1", "-", "INACTIVE"]
    assert lines.splitlines()[2].split(None, 3) == [
        "2",
        "demo-web:2",
        "1970-01-01T00:00:00Z",
        "PRIMARY (COMPLETED)",
    ]
