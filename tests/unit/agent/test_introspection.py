"""The agent's introspection API over real in-process HTTP: who the agent is and what it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from agent.endpoints.introspection import build_app
from minecs.model.registered import register
from minecs.model.task import (
    ContainerSnapshot,
    DesiredStatus,
    KnownStatus,
    TaskAssignment,
    TaskSnapshot,
    TaskStatus,
)
from minecs.validation import parse_task_definition
from tests.taskdefs import container, taskdef

ARN = "arn:aws:ecs:us-east-1:000000000000:task/default/abc"


def tasks() -> dict[str, tuple[TaskAssignment, TaskSnapshot | None]]:
    spec = parse_task_definition(taskdef(container("app")))
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/web:4", revision=4, registered_at=datetime.now(UTC)
    )
    assignment = TaskAssignment(task_arn=ARN, cluster="default", definition=td)
    app = ContainerSnapshot(
        name="app",
        known_status=KnownStatus.RUNNING,
        desired_status=DesiredStatus.RUNNING,
        essential=True,
        runtime_id="f00d" * 16,
        docker_name="ecs-web-4-app-1",
    )
    snapshot = TaskSnapshot(
        task_arn=ARN,
        seq=3,
        last_status=TaskStatus.RUNNING,
        desired_status=DesiredStatus.RUNNING,
        containers=(app,),
    )
    return {ARN: (assignment, snapshot)}


async def test_metadata_and_tasks_as_the_ecs_agent_answers_them() -> None:
    app = build_app(cluster="default", instance_arn="arn:ci", version="minecs agent 0.1.0", lookup=tasks)
    async with TestClient(TestServer(app)) as client:
        about: Any = await (await client.get("/v1/metadata")).json()
        assert about == {
            "Cluster": "default",
            "ContainerInstanceArn": "arn:ci",
            "Version": "minecs agent 0.1.0",
        }
        listed: Any = await (await client.get("/v1/tasks")).json()
        (task,) = listed["Tasks"]
        assert (task["Arn"], task["Family"], task["Version"], task["KnownStatus"]) == (
            ARN,
            "web",
            "4",
            "RUNNING",
        )
        assert task["Containers"] == [
            {"DockerId": "f00d" * 16, "DockerName": "ecs-web-4-app-1", "Name": "app"}
        ]
        by_docker: Any = await (await client.get("/v1/tasks?dockerid=f00df00d")).json()
        assert by_docker["Arn"] == ARN
        assert (await client.get(f"/v1/tasks?taskarn={ARN}")).status == 200
        assert (await client.get("/v1/tasks?taskarn=nope")).status == 404
