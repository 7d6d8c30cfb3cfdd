"""Launch types and capacity providers through real boto3 and the real aws CLI against the in-process
controller: FARGATE and EC2 tasks and services run on the cluster's own instances, with Fargate's
rules, and describe as ECS describes them. The words of each refusal are ECS's (see
``minecs.scheduling.launch`` for where they come from)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from agent.endpoints.metadata import task_json
from minecs.controlplane.plane import ControlPlane
from minecs.model.registered import from_json
from minecs.model.task import DesiredStatus, TaskSnapshot, TaskStatus
from minecs.model.wire import assignment_from_json
from minecs.scheduling.launch import BOTH, NO_NETWORK, NOT_ASSOCIATED, NOT_FARGATE
from tests.taskdefs import container, taskdef
from tests.unit.minecs.botoclient import AwsCli, Ecs, add_instance

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b"], "securityGroups": ["sg-9"]}}
FARGATE_TD = taskdef(
    container(),
    family="small",
    networkMode="awsvpc",
    cpu="256",
    memory="512",
    requiresCompatibilities=["FARGATE"],
)


async def _remaining(ecs: Ecs, instance: str) -> dict[str, int]:
    (described,) = (await ecs("describe_container_instances", containerInstances=[instance]))[
        "containerInstances"
    ]
    return {r["name"]: r["integerValue"] for r in described["remainingResources"] if r["name"] != "PORTS"}


async def test_a_fargate_task_runs_on_an_instance_describes_as_fargate_and_reserves_its_task_size(
    ecs: Ecs, plane: ControlPlane
) -> None:
    instance = await add_instance(plane, agent=True)
    await ecs("register_task_definition", **FARGATE_TD)
    (task,) = (
        await ecs("run_task", taskDefinition="small", launchType="FARGATE", networkConfiguration=NETWORK)
    )["tasks"]
    assert task["containerInstanceArn"].endswith(instance)
    assert (task["launchType"], task["platformVersion"], task["platformFamily"]) == (
        "FARGATE",
        "1.4.0",
        "Linux",
    )
    assert (task["cpu"], task["memory"]) == ("256", "512")
    (eni,) = task["attachments"]
    assert (eni["type"], eni["status"]) == ("ElasticNetworkInterface", "PRECREATED")
    assert eni["details"] == [{"name": "subnetId", "value": "subnet-0a1b"}]
    assert "capacityProviderName" not in task
    # The task-level size is what it holds on the instance, not its container's 64 MiB.
    assert await _remaining(ecs, instance) == {"CPU": 2048 - 256, "MEMORY": 2048 - 512}
    assert (await ecs("list_tasks", launchType="FARGATE"))["taskArns"] == [task["taskArn"]]
    assert (await ecs("list_tasks", launchType="EXTERNAL"))["taskArns"] == []
    # The agent is told the launch type, and the task's metadata says it, as on Fargate.
    assignments = await plane.tasks.assignments(instance)
    definitions = {ref: from_json(d)[0] for ref, d in assignments.definitions.items()}
    told = assignment_from_json(assignments.tasks[0], definitions)
    snapshot = TaskSnapshot(told.task_arn, 1, TaskStatus.PENDING, DesiredStatus.RUNNING, ())
    assert task_json(told, snapshot)["LaunchType"] == "FARGATE"
    # The emulated ENI's status follows the task as the agent reports it.
    for seq, status in enumerate(("RUNNING", "STOPPED"), start=1):
        await plane.tasks.report(instance, _snapshot(task["taskArn"], seq, status))
        (shown,) = (await ecs("describe_tasks", tasks=[task["taskArn"]]))["tasks"]
        assert shown["attachments"][0]["status"] == {"RUNNING": "ATTACHED", "STOPPED": "DELETED"}[status]


def _snapshot(task_arn: str, seq: int, status: str) -> dict[str, Any]:
    """An agent's report of the task's one container, all in ``status``."""
    return {
        "taskArn": task_arn,
        "seq": seq,
        "lastStatus": status,
        "desiredStatus": "RUNNING" if status == "RUNNING" else "STOPPED",
        "healthStatus": "UNKNOWN",
        "containers": [{"name": "app", "lastStatus": status}],
    }


async def test_fargate_and_ec2_refuse_what_ecs_refuses_in_ecs_words(ecs: Ecs, plane: ControlPlane) -> None:
    await add_instance(plane, agent=True)
    await ecs("register_task_definition", **FARGATE_TD)
    await ecs("register_task_definition", **taskdef(container()))  # bridge, no task size: web

    async def refused(**members: Any) -> tuple[str, str]:
        code, message, _ = await ecs.error("run_task", **members)
        return code, message

    assert await refused(taskDefinition="web", launchType="FARGATE", networkConfiguration=NETWORK) == (
        "InvalidParameterException",
        NOT_FARGATE,
    )
    assert await refused(taskDefinition="small", launchType="FARGATE") == (
        "InvalidParameterException",
        NO_NETWORK,
    )
    assert await refused(taskDefinition="small", launchType="EC2") == (
        "InvalidParameterException",
        NO_NETWORK,
    )
    assert await refused(taskDefinition="web", launchType="EC2", networkConfiguration=NETWORK) == (
        "InvalidParameterException",
        "Network Configuration is not valid for the given networkMode of this task definition.",
    )
    both = {"launchType": "FARGATE", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]}
    assert await refused(taskDefinition="small", networkConfiguration=NETWORK, **both) == (
        "InvalidParameterException",
        BOTH,
    )
    assert await refused(taskDefinition="web", launchType="EC2", platformVersion="LATEST") == (
        "InvalidParameterException",
        "The platform version must be null when specifying an EC2 launch type.",
    )
    code, message = await refused(
        taskDefinition="small", launchType="FARGATE", networkConfiguration=NETWORK, platformVersion="1.3.0"
    )
    assert (code, message.split(" (")[0]) == (
        "PlatformUnknownException",
        "The specified platform version doesn't exist.",
    )
    code, message = await refused(
        taskDefinition="small",
        launchType="FARGATE",
        networkConfiguration=NETWORK,
        overrides={"memory": "4096"},  # 256 CPU units take 512 to 2048 MiB on Fargate
    )
    assert (code, message) == (
        "InvalidParameterException",
        "overrides: No Fargate configuration exists for given values: 256 CPU, 4096 memory.",
    )
    code, message = await refused(
        taskDefinition="small",
        networkConfiguration=NETWORK,
        capacityProviderStrategy=[{"capacityProvider": "my-asg"}],
    )
    assert code == "InvalidParameterException"
    assert message.startswith(NOT_ASSOCIATED)
    assert "'my-asg'" in message
    assert (await ecs("list_tasks"))["taskArns"] == []  # nothing refused was created


async def test_an_ec2_task_is_placed_like_an_external_one_and_describes_ec2(
    ecs: Ecs, plane: ControlPlane
) -> None:
    instance = await add_instance(plane, agent=True)
    await ecs("register_task_definition", **taskdef(container()))
    ec2 = (await ecs("run_task", taskDefinition="web", launchType="EC2"))["tasks"][0]
    external = (await ecs("run_task", taskDefinition="web"))["tasks"][0]
    assert ec2["containerInstanceArn"].endswith(instance)
    assert (ec2["launchType"], external["launchType"]) == ("EC2", "EXTERNAL")
    assert not {"platformVersion", "platformFamily"} & set(ec2)
    assert ec2["attachments"] == []  # no ENI: ECS answers the collection empty
    assert (await ecs("list_tasks", launchType="EC2"))["taskArns"] == [ec2["taskArn"]]
    assert (await ecs("list_tasks", launchType="EXTERNAL"))["taskArns"] == [external["taskArn"]]


async def test_capacity_provider_strategies_resolve_to_fargate_by_base_then_weight(
    ecs: Ecs, plane: ControlPlane
) -> None:
    await add_instance(plane, memory=4096, agent=True)
    await ecs("register_task_definition", **FARGATE_TD)
    strategy = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
    ]
    ran = await ecs(
        "run_task",
        taskDefinition="small",
        count=4,
        capacityProviderStrategy=strategy,
        networkConfiguration=NETWORK,
    )
    assert [t["capacityProviderName"] for t in ran["tasks"]] == [
        "FARGATE",
        "FARGATE_SPOT",
        "FARGATE_SPOT",
        "FARGATE",
    ]
    assert {(t["launchType"], t["platformVersion"]) for t in ran["tasks"]} == {("FARGATE", "1.4.0")}
    assert len((await ecs("list_tasks", launchType="FARGATE"))["taskArns"]) == 4

    # A cluster's default strategy is used when a call names neither; its providers are the only ones.
    await ecs(
        "create_cluster",
        clusterName="spot",
        capacityProviders=["FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    (task,) = (await ecs("run_task", cluster="spot", taskDefinition="small", networkConfiguration=NETWORK))[
        "tasks"
    ]
    assert (task["launchType"], task["capacityProviderName"]) == ("FARGATE", "FARGATE_SPOT")
    code, message, _ = await ecs.error(
        "run_task",
        cluster="spot",
        taskDefinition="small",
        networkConfiguration=NETWORK,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE"}],
    )
    assert (code, message.split(" (")[0]) == ("InvalidParameterException", NOT_ASSOCIATED)


async def test_fargate_services_describe_their_launch_and_their_tasks_follow_it(
    ecs: Ecs, plane: ControlPlane
) -> None:
    await add_instance(plane, memory=4096, agent=True)
    await ecs("register_task_definition", **FARGATE_TD)
    await ecs("register_task_definition", **taskdef(container()))
    by_type = (
        await ecs(
            "create_service",
            serviceName="api",
            taskDefinition="small",
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=NETWORK,
        )
    )["service"]
    assert (by_type["launchType"], by_type["platformVersion"], by_type["platformFamily"]) == (
        "FARGATE",
        "LATEST",
        "Linux",
    )
    assert by_type["networkConfiguration"] == NETWORK
    deployment = by_type["deployments"][0]
    assert (deployment["launchType"], deployment["platformVersion"]) == ("FARGATE", "1.4.0")
    by_strategy = (
        await ecs(
            "create_service",
            serviceName="batch",
            taskDefinition="small",
            desiredCount=2,
            capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            networkConfiguration=NETWORK,
        )
    )["service"]
    assert "launchType" not in by_strategy
    assert by_strategy["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]
    plain = (await ecs("create_service", serviceName="web", taskDefinition="web", desiredCount=0))["service"]
    assert plain["launchType"] == "EXTERNAL"
    for name in ("api", "batch"):
        await plane.services.reconcile(f"default/{name}")
    tasks = (await ecs("describe_tasks", tasks=(await ecs("list_tasks"))["taskArns"]))["tasks"]
    assert sorted((t["group"], t["launchType"], t.get("capacityProviderName", "")) for t in tasks) == [
        ("service:api", "FARGATE", ""),
        ("service:batch", "FARGATE", "FARGATE_SPOT"),
        ("service:batch", "FARGATE", "FARGATE_SPOT"),
    ]
    fargate = (await ecs("list_services", launchType="FARGATE"))["serviceArns"]
    assert sorted(a.rsplit("/", 1)[1] for a in fargate) == ["api", "batch"]
    assert [
        a.rsplit("/", 1)[1] for a in (await ecs("list_services", launchType="EXTERNAL"))["serviceArns"]
    ] == ["web"]
    code, message, _ = await ecs.error("update_service", service="api", taskDefinition="web")
    assert (code, message) == ("InvalidParameterException", NOT_FARGATE)
    code, message, _ = await ecs.error(
        "create_service", serviceName="bad", taskDefinition="small", desiredCount=1, launchType="FARGATE"
    )
    assert (code, message) == ("InvalidParameterException", NO_NETWORK)


async def _aws(server: TestClient[Any, Any], *args: str) -> tuple[int, Any, str]:
    """The aws CLI (``python -m awscli``) against the in-process controller: (exit code, JSON, stderr)."""
    code, out, err = await AwsCli(str(server.make_url("/"))).run(*args)
    return code, json.loads(out) if out.strip() else None, err


async def test_the_aws_cli_runs_fargate_tasks_and_services_and_hears_the_refusals(
    server: TestClient[Any, Any], ecs: Ecs, plane: ControlPlane
) -> None:
    await add_instance(plane, memory=4096, agent=True)
    await ecs("register_task_definition", **FARGATE_TD)
    network = ("--network-configuration", "awsvpcConfiguration={subnets=[subnet-0a1b],securityGroups=[sg-9]}")
    code, ran, err = await _aws(
        server, *["run-task", "--task-definition", "small", "--launch-type", "FARGATE"], *network
    )
    assert code == 0, err
    (task,) = ran["tasks"]
    assert (task["launchType"], task["platformVersion"]) == ("FARGATE", "1.4.0")
    spot = ("--capacity-provider-strategy", "capacityProvider=FARGATE_SPOT,weight=1")
    code, ran, err = await _aws(server, "run-task", "--task-definition", "small", *spot, *network)
    assert code == 0, err
    assert (ran["tasks"][0]["launchType"], ran["tasks"][0]["capacityProviderName"]) == (
        "FARGATE",
        "FARGATE_SPOT",
    )
    code, listed, err = await _aws(server, "list-tasks", "--launch-type", "FARGATE")
    assert (code, len(listed["taskArns"])) == (0, 2), err
    service = "create-service --service-name api --task-definition small --desired-count 1 --launch-type EC2"
    code, created, err = await _aws(server, *service.split(), *network)
    assert code == 0, err
    assert created["service"]["launchType"] == "EC2"
    both = ["run-task", "--task-definition", "small", "--launch-type", "FARGATE"]
    code, _, err = await _aws(server, *both, *spot, *network)
    assert code != 0
    assert "InvalidParameterException" in err
    assert BOTH in err
