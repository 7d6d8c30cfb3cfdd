"""Every ECS answer minecs gives, on the raw JSON, against botocore's ECS model (issue 16).

One scenario drives every implemented operation through real boto3 with rich inputs (tags,
settings, volumes, health checks, ports, overrides, a task an agent reports running, a deleted
service) and keeps each raw body (``ecsmodel.RawAnswers``). A member not in the model's output
shape, a value of the wrong type or outside its enum, or a member ECS always returns and minecs
left out, fails the test with its path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from minecs.api.app import build_app
from minecs.api.ecs.common import OPERATIONS
from minecs.api.ecs.shaping import OUTPUTS, SHAPES
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from minecs.settings import ControllerTuning, EfsAccessPoint, EfsFileSystem, EfsSettings
from tests.ecsmodel import MODEL, RawAnswers, violations
from tests.unit.minecs.botoclient import ADMIN, Ecs, add_instance

NOW = datetime.now(UTC)

RICH_DEFINITION: dict[str, Any] = {
    "family": "shapes",
    "taskRoleArn": "arn:aws:iam::000000000000:role/app",
    "networkMode": "bridge",
    "volumes": [
        {"name": "data", "host": {"sourcePath": "/srv/data"}},
        {"name": "scratch", "dockerVolumeConfiguration": {"scope": "task", "driver": "local"}},
    ],
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
    "tags": [{"key": "team", "value": "edge"}],
    "containerDefinitions": [
        {
            "name": "web",
            "image": "minecs/busybox:latest",
            "memory": 64,
            "cpu": 128,
            "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "shapes"}],
            "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": True}],
            "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 3},
            "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "1m"}},
            "dockerLabels": {"app": "web"},
            "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
            "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}],
        },
        {"name": "init", "image": "minecs/busybox:latest", "memory": 16, "essential": False},
    ],
}


async def report_running(plane: ControlPlane, task: dict[str, Any]) -> None:
    """What an agent reports for a running task: a container with a port binding and one exited."""
    stored = await plane.store.get("task", task["taskArn"].rsplit("/", 1)[-1])
    assert stored is not None
    started = (NOW - timedelta(minutes=1)).isoformat()
    snapshot = {
        "taskArn": task["taskArn"],
        "seq": stored.body["seq"] + 1,
        "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING",
        "healthStatus": "HEALTHY",
        "pullStartedAt": started,
        "pullStoppedAt": started,
        "startedAt": started,
        "containers": [
            {
                "name": "web",
                "image": "minecs/busybox:latest",
                "runtimeId": "c" * 64,
                "lastStatus": "RUNNING",
                "healthStatus": "HEALTHY",
                "networkBindings": [
                    {"bindIP": "127.0.0.1", "containerPort": 8080, "hostPort": 32768, "protocol": "tcp"}
                ],
            },
            {
                "name": "init",
                "image": "minecs/busybox:latest",
                "runtimeId": "d" * 64,
                "lastStatus": "STOPPED",
                "exitCode": 0,
                "reason": "",
                "healthStatus": "UNKNOWN",
            },
        ],
    }
    await plane.tasks.report(stored.body["instanceId"], snapshot)


async def every_operation(ecs: Ecs, plane: ControlPlane) -> None:
    await ecs(
        "create_cluster",
        clusterName="shapes",
        tags=[{"key": "env", "value": "test"}],
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )
    await ecs("describe_clusters", clusters=["shapes", "nowhere"], include=["TAGS", "STATISTICS"])
    await ecs("describe_clusters")
    await ecs("list_clusters")
    await ecs(
        "update_cluster", cluster="shapes", settings=[{"name": "containerInsights", "value": "disabled"}]
    )
    await ecs(
        "update_cluster_settings",
        cluster="shapes",
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )

    registered = await ecs("register_task_definition", **RICH_DEFINITION)
    await ecs(
        "register_task_definition",
        family="plain",
        containerDefinitions=[{"name": "a", "image": "x", "memory": 8}],
    )
    arn = registered["taskDefinition"]["taskDefinitionArn"]
    await ecs("describe_task_definition", taskDefinition="shapes", include=["TAGS"])
    await ecs("describe_task_definition", taskDefinition=arn)
    await ecs("list_task_definitions")
    await ecs("list_task_definition_families")

    await add_instance(plane, memory=4096)
    await ecs(
        "register_container_instance",
        cluster="default",
        totalResources=[
            {"name": "CPU", "type": "INTEGER", "integerValue": 2048},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 2048},
        ],
        versionInfo={"agentVersion": "1.0.0", "dockerVersion": "20.10.24"},
        attributes=[{"name": "stack", "value": "prod"}],
    )
    instances = (await ecs("list_container_instances"))["containerInstanceArns"]
    await ecs("describe_container_instances", containerInstances=[*instances, "missing"])

    run = await ecs(
        "run_task",
        taskDefinition="shapes",
        count=1,
        startedBy="shape-test",
        tags=[{"key": "run", "value": "one"}],
        overrides={"containerOverrides": [{"name": "web", "environment": [{"name": "X", "value": "1"}]}]},
    )
    task = run["tasks"][0]
    await report_running(plane, task)
    started = await ecs("start_task", taskDefinition="plain", containerInstances=[instances[0]])
    await ecs("describe_tasks", tasks=[task["taskArn"], "missing"], include=["TAGS"])
    await ecs("describe_tasks", tasks=[started["tasks"][0]["taskArn"]])
    await ecs("list_tasks")
    await ecs("stop_task", task=started["tasks"][0]["taskArn"], reason="shape test")

    await ecs(
        "create_service",
        serviceName="web",
        taskDefinition="plain",
        desiredCount=1,
        tags=[{"key": "svc", "value": "web"}],
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        placementStrategy=[{"type": "spread", "field": "instanceId"}],
        placementConstraints=[{"type": "distinctInstance"}],
    )
    await ecs("update_service", service="web", desiredCount=2)
    await ecs("describe_services", services=["web", "missing"], include=["TAGS"])
    await ecs("list_services")
    await ecs("list_tags_for_resource", resourceArn=task["taskArn"])
    await ecs("tag_resource", resourceArn=arn, tags=[{"key": "more", "value": "tags"}])
    await ecs("untag_resource", resourceArn=arn, tagKeys=["more"])
    await ecs("update_service", service="web", desiredCount=0)
    await ecs("delete_service", service="web")
    await ecs("describe_services", services=["web"])

    await ecs("update_container_instances_state", containerInstances=[instances[-1]], status="DRAINING")
    await ecs("deregister_container_instance", containerInstance=instances[-1], force=True)
    await ecs("deregister_task_definition", taskDefinition="plain:1")
    await ecs("delete_task_definitions", taskDefinitions=["plain:1", "plain:9"])
    await ecs("discover_poll_endpoint")
    await ecs("submit_task_state_change", cluster="default", task=task["taskArn"], status="RUNNING")
    await ecs("submit_container_state_change", cluster="default", task=task["taskArn"], containerName="web")
    await ecs("delete_cluster", cluster="shapes")


async def test_every_answer_has_the_members_types_and_values_of_the_ecs_model(
    ecs: Ecs, plane: ControlPlane
) -> None:
    raw = RawAnswers(ecs.client)
    await every_operation(ecs, plane)
    assert raw.operations() == set(OPERATIONS)
    assert raw.violations() == []


FARGATE_WITH_EFS: dict[str, Any] = {
    "family": "fargate-efs",
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "requiresCompatibilities": ["FARGATE"],
    "volumes": [
        {
            "name": "shared",
            "efsVolumeConfiguration": {
                "fileSystemId": "fs-1234",
                "transitEncryption": "ENABLED",
                "authorizationConfig": {"accessPointId": "fsap-1", "iam": "DISABLED"},
            },
        }
    ],
    "containerDefinitions": [
        {
            "name": "app",
            "image": "minecs/busybox:latest",
            "essential": True,
            "mountPoints": [{"sourceVolume": "shared", "containerPath": "/shared"}],
        }
    ],
}
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b"], "securityGroups": ["sg-9"]}}


async def test_fargate_capacity_provider_and_efs_answers_have_the_ecs_model_too(tmp_path: Path) -> None:
    """The launch-type and EFS members (an ENI attachment, capacityProviderName, platformVersion, an
    EFS volume) are in the model's shapes and types as well."""
    efs = EfsSettings(
        {
            "fs-1234": EfsFileSystem(
                server="127.0.0.1",
                transit_encryption=True,
                access_points={"fsap-1": EfsAccessPoint(root="/a")},
            )
        }
    )
    plane = await ControlPlane.open(tmp_path, Identity(), ControllerTuning(efs=efs))
    try:
        async with TestClient(TestServer(build_app(plane, ADMIN))) as client:
            ecs = Ecs(str(client.make_url("/")))
            raw = RawAnswers(ecs.client)
            await add_instance(plane, memory=4096, agent=True)
            await ecs("register_task_definition", **FARGATE_WITH_EFS)
            await ecs("describe_task_definition", taskDefinition="fargate-efs")
            run = await ecs(
                "run_task", taskDefinition="fargate-efs", launchType="FARGATE", networkConfiguration=NETWORK
            )
            await ecs(
                "run_task",
                taskDefinition="fargate-efs",
                capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
                networkConfiguration=NETWORK,
            )
            await ecs(
                "create_service",
                serviceName="spot",
                taskDefinition="fargate-efs",
                desiredCount=1,
                capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 1}],
                networkConfiguration=NETWORK,
            )
            await plane.services.reconcile("default/spot")
            await ecs("describe_services", services=["spot"])
            arns = (await ecs("list_tasks"))["taskArns"]
            await ecs("describe_tasks", tasks=arns)
            await ecs("stop_task", task=run["tasks"][0]["taskArn"])
            assert {"RunTask", "CreateService", "DescribeTasks"} <= raw.operations()
            assert raw.violations() == []
    finally:
        await plane.close()


def test_the_oracle_finds_an_unknown_member_a_wrong_type_a_bad_enum_and_a_missing_member() -> None:
    """The checker itself: each kind of departure is reported with its path."""
    found = list(
        violations(
            {"tasks": [{"seq": 3, "taskArn": 5, "launchType": "MOON"}], "failures": []},
            MODEL["operations"]["DescribeTasks"]["output"]["shape"],
        )
    )
    assert "$.tasks[0].seq: not a member of Task" in found
    assert "$.tasks[0].taskArn: 5 is not a JSON string (String)" in found
    assert any(v.startswith("$.tasks[0].launchType: 'MOON' is not one of") for v in found)
    assert "$.tasks[0].containers: missing; ECS always returns it in a Task" in found


def test_the_shipped_allow_list_is_botocores_model_for_every_operation_minecs_answers() -> None:
    """``outputs.json`` (what the controller filters by, without botocore) agrees with botocore's model."""
    assert set(OUTPUTS) == {op for op in OPERATIONS if "output" in MODEL["operations"][op]}
    for operation, shape in OUTPUTS.items():
        assert MODEL["operations"][operation]["output"]["shape"] == shape
    for name, ours in SHAPES.items():
        theirs = MODEL["shapes"][name]
        assert ours["type"] == theirs["type"], name
        members = {m: s["shape"] for m, s in theirs.get("members", {}).items()}
        assert ours.get("members", {}).items() <= members.items(), name
        for part in ("member", "key", "value"):
            assert ours.get(part) == theirs.get(part, {}).get("shape"), (name, part)
