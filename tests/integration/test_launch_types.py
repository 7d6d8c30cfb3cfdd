"""FARGATE tasks and a FARGATE_SPOT service on a real agent and engine, through boto3 and the aws CLI:
they reach RUNNING on the host's instance and describe the launch ECS would show, the emulated ENI
following the task from PRECREATED to ATTACHED to DELETED."""

from __future__ import annotations

import json

from tests.integration.processes import Up
from tests.integration.test_ecs_api import FAST, aws, ecs_client
from tests.taskdefs import web

SMALL = {
    "family": "ecs-small",
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "requiresCompatibilities": ["FARGATE"],
    "containerDefinitions": [web()],
}
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b"], "securityGroups": ["sg-9"]}}


def test_a_fargate_task_runs_on_the_agent_and_describes_as_fargate(up: Up) -> None:
    ecs = ecs_client(up)
    ecs.register_task_definition(**SMALL)
    (task,) = ecs.run_task(taskDefinition="ecs-small", launchType="FARGATE", networkConfiguration=NETWORK)[
        "tasks"
    ]
    ecs.get_waiter("tasks_running").wait(tasks=[task["taskArn"]], **FAST)
    (running,) = ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"]
    assert (running["launchType"], running["platformVersion"], running["platformFamily"]) == (
        "FARGATE",
        "1.4.0",
        "Linux",
    )
    assert running["attachments"][0]["status"] == "ATTACHED"
    assert (running["cpu"], running["memory"]) == ("256", "512")
    ecs.stop_task(task=task["taskArn"])
    ecs.get_waiter("tasks_stopped").wait(tasks=[task["taskArn"]], **FAST)
    (stopped,) = ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"]
    assert stopped["attachments"][0]["status"] == "DELETED"


def test_the_aws_cli_runs_a_fargate_spot_service_to_steady_state(up: Up) -> None:
    ecs = ecs_client(up)
    ecs.register_task_definition(**SMALL)
    aws(
        up,
        *[
            "create-service",
            "--service-name",
            "spot",
            "--task-definition",
            "ecs-small",
            "--desired-count",
            "2",
        ],
        "--capacity-provider-strategy",
        "capacityProvider=FARGATE_SPOT,weight=1",
        "--network-configuration",
        json.dumps(NETWORK),
    )
    aws(up, "wait", "services-stable", "--services", "spot")
    arns = json.loads(aws(up, "list-tasks", "--service-name", "spot", "--launch-type", "FARGATE").stdout)[
        "taskArns"
    ]
    tasks = json.loads(aws(up, "describe-tasks", "--tasks", *arns).stdout)["tasks"]
    assert sorted((t["lastStatus"], t["capacityProviderName"]) for t in tasks) == [
        ("RUNNING", "FARGATE_SPOT"),
        ("RUNNING", "FARGATE_SPOT"),
    ]
    service = json.loads(aws(up, "describe-services", "--services", "spot").stdout)["services"][0]
    assert service["deployments"][0]["platformVersion"] == "1.4.0"
    aws(up, "delete-service", "--service", "spot", "--force")
