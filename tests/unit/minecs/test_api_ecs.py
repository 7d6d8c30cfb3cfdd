"""The ECS JSON 1.1 front end driven by the real botocore client, signed with SigV4, over real HTTP.

The server runs in-process on the test's event loop (the ``server`` and ``ecs`` fixtures of
``conftest.py``); the (synchronous) boto3 client runs in a thread (``botoclient.Ecs``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from minecs.api.app import build_app
from minecs.controlplane.instances import Registration
from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.botoclient import ADMIN, Ecs, add_instance

TARGET = "AmazonEC2ContainerServiceV20141113."


async def test_task_definitions_register_list_describe_deregister_delete(ecs: Ecs) -> None:
    registered = await ecs(
        "register_task_definition", **taskdef(container()), tags=[{"key": "team", "value": "a"}]
    )
    arn = registered["taskDefinition"]["taskDefinitionArn"]
    assert arn == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"
    await ecs("register_task_definition", **taskdef(container(memory=96)))
    listed = await ecs("list_task_definitions", sort="DESC", maxResults=1)
    assert listed["taskDefinitionArns"] == [arn.replace(":1", ":2")]
    rest = await ecs("list_task_definitions", sort="DESC", nextToken=listed["nextToken"])
    assert rest["taskDefinitionArns"] == [arn]
    assert "nextToken" not in rest
    described = await ecs("describe_task_definition", taskDefinition="web:1", include=["TAGS"])
    assert described["tags"] == [{"key": "team", "value": "a"}]
    assert described["taskDefinition"]["containerDefinitions"][0]["name"] == "app"
    assert "tags" not in await ecs("describe_task_definition", taskDefinition="web")
    assert (await ecs("list_task_definition_families"))["families"] == ["web"]
    deleted = await ecs("delete_task_definitions", taskDefinitions=["web:1"])
    assert deleted["failures"][0]["reason"].startswith(
        "The specified task definition is still in ACTIVE status."
    )
    assert (await ecs("deregister_task_definition", taskDefinition=arn))["taskDefinition"][
        "status"
    ] == "INACTIVE"
    deleted = await ecs("delete_task_definitions", taskDefinitions=["web:1"])
    assert deleted["taskDefinitions"][0]["status"] == "DELETE_IN_PROGRESS"
    inactive = await ecs("list_task_definitions", status="INACTIVE")
    assert inactive["taskDefinitionArns"] == []


async def test_task_definition_pages_continue_after_their_last_item_and_refuse_a_foreign_token(
    ecs: Ecs,
) -> None:
    for memory in (64, 72, 80):
        await ecs("register_task_definition", **taskdef(container(memory=memory)))
    await ecs("register_task_definition", **taskdef(container(), family="api"))
    first = await ecs("list_task_definitions", maxResults=2)
    assert [a.rsplit("/", 1)[1] for a in first["taskDefinitionArns"]] == ["api:1", "web:1"]
    # Registered between two pages, before and after the position: an offset would show web:1 again.
    await ecs("register_task_definition", **taskdef(container(), family="aaa"))
    await ecs("register_task_definition", **taskdef(container(memory=88)))
    rest = await ecs("list_task_definitions", maxResults=2, nextToken=first["nextToken"])
    assert [a.rsplit("/", 1)[1] for a in rest["taskDefinitionArns"]] == ["web:2", "web:3"]
    last = await ecs("list_task_definitions", maxResults=2, nextToken=rest["nextToken"])
    assert ([a.rsplit("/", 1)[1] for a in last["taskDefinitionArns"]], "nextToken" in last) == (
        ["web:4"],
        False,
    )
    families = await ecs("list_task_definition_families", maxResults=2)
    assert families["families"] == ["aaa", "api"]
    more = await ecs("list_task_definition_families", maxResults=2, nextToken=families["nextToken"])
    assert (more["families"], "nextToken" in more) == (["web"], False)
    for token in ("not-a-token", families["nextToken"]):  # a family position is no revision position
        code, message, _ = await ecs.error("list_task_definitions", nextToken=token)
        assert (code, message) == ("InvalidParameterException", "The nextToken is not valid.")


async def test_clusters_create_describe_with_counts_list_pages_and_refuse_deletion(
    ecs: Ecs, plane: ControlPlane
) -> None:
    created = await ecs("create_cluster", clusterName="edge", tags=[{"key": "site", "value": "shed"}])
    assert created["cluster"]["clusterArn"] == "arn:aws:ecs:us-east-1:000000000000:cluster/edge"
    again = await ecs("create_cluster", clusterName="edge")
    assert again["cluster"]["clusterArn"] == created["cluster"]["clusterArn"]  # idempotent, as ECS
    await ecs("register_task_definition", **taskdef(container()))
    await ecs("create_service", cluster="edge", serviceName="web", taskDefinition="web", desiredCount=2)
    await plane.services.reconcile("edge/web")
    described = await ecs("describe_clusters", clusters=["edge", "nope"], include=["STATISTICS", "TAGS"])
    (cluster,) = described["clusters"]
    # No instance: one task waits for capacity, and the service launches no more meanwhile.
    assert (cluster["activeServicesCount"], cluster["pendingTasksCount"], cluster["runningTasksCount"]) == (
        1,
        1,
        0,
    )
    assert cluster["tags"] == [{"key": "site", "value": "shed"}]
    assert {s["name"] for s in cluster["statistics"]} >= {"runningTasksCount", "pendingTasksCount"}
    assert described["failures"] == [
        {"arn": "arn:aws:ecs:us-east-1:000000000000:cluster/nope", "reason": "MISSING"}
    ]
    first = await ecs("list_clusters", maxResults=1)
    second = await ecs("list_clusters", maxResults=1, nextToken=first["nextToken"])
    assert sorted(first["clusterArns"] + second["clusterArns"]) == [
        "arn:aws:ecs:us-east-1:000000000000:cluster/default",
        "arn:aws:ecs:us-east-1:000000000000:cluster/edge",
    ]
    assert (await ecs.error("delete_cluster", cluster="edge"))[:2] == (
        "ClusterContainsServicesException",
        "The Cluster cannot be deleted while Services are active.",
    )
    assert (await ecs.error("delete_cluster", cluster="nope"))[0] == "ClusterNotFoundException"
    settings = await ecs(
        "update_cluster_settings",
        cluster="edge",
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )
    assert settings["cluster"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]


async def test_tasks_run_describe_list_with_filters_and_stop(ecs: Ecs, plane: ControlPlane) -> None:
    instance = await add_instance(plane)
    await ecs("register_task_definition", **taskdef(container()))
    ran = await ecs(
        "run_task",
        taskDefinition="web",
        count=2,
        startedBy="ci",
        overrides={
            "containerOverrides": [{"name": "app", "environment": [{"name": "A", "value": "1"}]}],
            "memory": "256",
        },
        tags=[{"key": "k", "value": "v"}],
    )
    assert len(ran["tasks"]) == 2
    assert ran["failures"] == []
    task = ran["tasks"][0]
    assert task["taskArn"].startswith("arn:aws:ecs:us-east-1:000000000000:task/default/")
    assert task["containerInstanceArn"].endswith(f"container-instance/default/{instance}")
    assert task["memory"] == "256"
    assert isinstance(task["createdAt"], datetime)  # epoch seconds on the wire, parsed by botocore
    described = await ecs("describe_tasks", tasks=[task["taskArn"], "nope"], include=["TAGS"])
    assert described["tasks"][0]["tags"] == [{"key": "k", "value": "v"}]
    assert described["failures"] == [{"arn": "nope", "reason": "MISSING"}]
    assert "tags" not in (await ecs("describe_tasks", tasks=[task["taskArn"]]))["tasks"][0]
    assert len((await ecs("list_tasks", startedBy="ci"))["taskArns"]) == 2
    assert (await ecs("list_tasks", startedBy="someone-else"))["taskArns"] == []
    assert len((await ecs("list_tasks", family="web", containerInstance=instance))["taskArns"]) == 2
    stopped = await ecs("stop_task", task=task["taskArn"], reason="enough")
    assert (stopped["task"]["desiredStatus"], stopped["task"]["stoppedReason"]) == ("STOPPED", "enough")
    assert len((await ecs("list_tasks", desiredStatus="STOPPED"))["taskArns"]) == 1
    assert len((await ecs("list_tasks"))["taskArns"]) == 1  # RUNNING by default
    started = await ecs("start_task", taskDefinition="web", containerInstances=[instance])
    assert started["tasks"][0]["containerInstanceArn"].endswith(instance)


async def test_services_create_update_describe_list_delete(ecs: Ecs, plane: ControlPlane) -> None:
    await ecs("register_task_definition", **taskdef(container()))
    created = await ecs("create_service", serviceName="web", taskDefinition="web", desiredCount=1)
    service = created["service"]
    assert service["serviceArn"] == "arn:aws:ecs:us-east-1:000000000000:service/default/web"
    assert service["deployments"][0]["status"] == "PRIMARY"
    assert "cluster" not in service  # minecs's bookkeeping stays inside
    duplicate = await ecs.error("create_service", serviceName="web", taskDefinition="web", desiredCount=3)
    assert duplicate[:2] == ("InvalidParameterException", "Creation of service was not idempotent.")
    await ecs("register_task_definition", **taskdef(container(memory=96)))
    updated = await ecs(
        "update_service",
        service="web",
        taskDefinition="web",
        deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50},
    )
    assert [d["status"] for d in updated["service"]["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert updated["service"]["deploymentConfiguration"]["maximumPercent"] == 150
    described = await ecs("describe_services", services=["web", "ghost"])
    assert described["services"][0]["taskDefinition"].endswith("web:2")
    assert described["failures"] == [
        {"arn": "arn:aws:ecs:us-east-1:000000000000:service/default/ghost", "reason": "MISSING"}
    ]
    assert (await ecs("list_services"))["serviceArns"] == [service["serviceArn"]]
    refused = await ecs.error("delete_service", service="web")
    assert refused[:2] == (
        "InvalidParameterException",
        "The service cannot be stopped while it is scaled above 0.",
    )
    assert (await ecs("delete_service", service="web", force=True))["service"]["status"] == "DRAINING"
    assert (await ecs.error("update_service", service="web", desiredCount=2))[
        0
    ] == "ServiceNotActiveException"
    assert (await ecs.error("update_service", service="ghost", desiredCount=2))[
        0
    ] == "ServiceNotFoundException"
    assert (await ecs.error("describe_services", cluster="nope", services=["web"]))[
        0
    ] == "ClusterNotFoundException"
    assert (await ecs.error("list_tasks", serviceName="ghost"))[0] == "ServiceNotFoundException"


async def test_modelled_errors_reach_boto3_with_their_codes(ecs: Ecs, server: TestClient[Any, Any]) -> None:
    assert (await ecs.error("run_task", taskDefinition="missing"))[:2] == (
        "ClientException",
        "Unable to describe task definition.",
    )
    code, message, status = await ecs.error(
        "register_task_definition", family="bad", containerDefinitions=[{"name": "a"}]
    )
    assert (code, message, status) == ("ClientException", "Container.image should not be null or empty.", 400)
    assert (
        await ecs.error(
            "list_tags_for_resource", resourceArn="arn:aws:ecs:us-east-1:000000000000:cluster/nope"
        )
    )[:2] == ("ClusterNotFoundException", "Cluster not found.")
    code, message, _ = await ecs.error(
        "create_capacity_provider",
        name="x",
        autoScalingGroupProvider={"autoScalingGroupArn": "arn:aws:autoscaling:x"},
    )
    assert (code, message) == (
        "UnsupportedFeatureException",
        "CreateCapacityProvider is not supported by minecs.",
    )
    assert (await ecs.error("run_task", taskDefinition="web", launchType="MANAGED_INSTANCES"))[
        0
    ] == "UnsupportedFeatureException"
    raw = await server.post(
        "/",
        data=b"{}",
        headers={"X-Amz-Target": TARGET + "NoSuchThing", "Authorization": "AWS4-HMAC-SHA256 x"},
    )
    assert raw.status == 403  # the signature is checked before the operation is looked at
    assert raw.headers["x-amzn-RequestId"]


async def test_signatures_are_verified(server: TestClient[Any, Any]) -> None:
    url = str(server.make_url("/"))
    wrong_secret = await Ecs(url, secret="not-the-secret").error("list_clusters")
    assert wrong_secret[0] == "InvalidSignatureException"
    assert wrong_secret[2] == 403
    unknown_key = await Ecs(url, key="AKIAUNKNOWNKEY000000").error("list_clusters")
    assert unknown_key[:2] == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    unsigned = await server.post("/", data=b"{}", headers={"X-Amz-Target": TARGET + "ListClusters"})
    assert unsigned.status == 403
    assert (await unsigned.json(content_type=None))["__type"] == "MissingAuthenticationTokenException"


async def test_unsigned_requests_from_loopback_only_when_the_operator_allows(plane: ControlPlane) -> None:
    async with TestClient(TestServer(build_app(plane, ADMIN, ecs_unsigned_loopback=True))) as client:
        answer = await client.post(
            "/",
            data=b"{}",
            headers={"X-Amz-Target": TARGET + "ListClusters", "Content-Type": "application/x-amz-json-1.1"},
        )
        assert answer.status == 200
        assert (await answer.json(content_type=None))["clusterArns"] == [
            "arn:aws:ecs:us-east-1:000000000000:cluster/default"
        ]
        unknown = await client.post("/", data=b"{}", headers={"X-Amz-Target": "Foreign_20200101.Thing"})
        assert (unknown.status, (await unknown.json(content_type=None))["__type"]) == (
            400,
            "UnknownOperationException",
        )
        other = await client.post("/", data=b"{}", headers={"X-Amz-Target": TARGET + "CreateDaemon"})
        assert (other.status, (await other.json(content_type=None))["message"]) == (
            400,
            "CreateDaemon is not supported by minecs.",
        )
        garbage = await client.post("/", data=b"{not json", headers={"X-Amz-Target": TARGET + "ListClusters"})
        assert (await garbage.json(content_type=None))["__type"] == "SerializationException"


async def test_tags_on_clusters_task_definitions_services_and_tasks(ecs: Ecs, plane: ControlPlane) -> None:
    await add_instance(plane)
    await ecs("register_task_definition", **taskdef(container()))
    service = (await ecs("create_service", serviceName="web", taskDefinition="web", desiredCount=0))[
        "service"
    ]
    task = (await ecs("run_task", taskDefinition="web"))["tasks"][0]
    arns = [
        "arn:aws:ecs:us-east-1:000000000000:cluster/default",
        "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
        service["serviceArn"],
        task["taskArn"],
    ]
    for arn in arns:
        await ecs(
            "tag_resource", resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
        )
        await ecs("untag_resource", resourceArn=arn, tagKeys=["a"])
        assert (await ecs("list_tags_for_resource", resourceArn=arn))["tags"] == [
            {"key": "b", "value": "2"}
        ], arn


async def test_draining_an_instance_moves_service_tasks_elsewhere(ecs: Ecs, plane: ControlPlane) -> None:
    first = await add_instance(plane)
    await ecs("register_task_definition", **taskdef(container()))
    await ecs("create_service", serviceName="web", taskDefinition="web", desiredCount=2)
    await plane.services.reconcile("default/web")
    assert {t["instanceId"] for t in await plane.tasks.in_cluster("default")} == {first}
    second = await add_instance(plane)
    drained = await ecs(
        "update_container_instances_state", containerInstances=[first, "gone"], status="DRAINING"
    )
    assert drained["containerInstances"][0]["status"] == "DRAINING"
    assert drained["failures"] == [{"arn": "gone", "reason": "MISSING"}]
    await plane.services.reconcile("default/web")  # the replacements start on the other instance
    live = [t for t in await plane.tasks.in_cluster("default") if t["desiredStatus"] == "RUNNING"]
    assert [t["instanceId"] for t in live] == [second, second]
    moved = [t for t in await plane.tasks.in_cluster("default") if t["instanceId"] == first]
    assert {t["desiredStatus"] for t in moved} == {"STOPPED"}  # never healthy, so nothing held them
    described = await ecs("describe_container_instances", containerInstances=[first, second, "gone"])
    shown = {i["containerInstanceArn"].rsplit("/", 1)[-1]: i for i in described["containerInstances"]}
    assert shown[first]["status"] == "DRAINING"
    memory_left = next(
        r["integerValue"] for r in shown[second]["remainingResources"] if r["name"] == "MEMORY"
    )
    assert memory_left == 2048 - 2 * 64
    assert described["failures"] == [{"arn": "gone", "reason": "MISSING"}]
    assert (await ecs("list_container_instances", status="DRAINING"))["containerInstanceArns"][0].endswith(
        first
    )
    refused = await ecs.error("deregister_container_instance", containerInstance=first)
    assert refused[0] == "InvalidParameterException"


ISSUE_OPERATIONS = [
    "CreateCluster",
    "DescribeClusters",
    "ListClusters",
    "DeleteCluster",
    "UpdateCluster",
    "UpdateClusterSettings",
    "RegisterTaskDefinition",
    "DescribeTaskDefinition",
    "ListTaskDefinitions",
    "ListTaskDefinitionFamilies",
    "DeregisterTaskDefinition",
    "DeleteTaskDefinitions",
    "RunTask",
    "StartTask",
    "StopTask",
    "DescribeTasks",
    "ListTasks",
    "CreateService",
    "UpdateService",
    "DescribeServices",
    "ListServices",
    "DeleteService",
    "RegisterContainerInstance",
    "DeregisterContainerInstance",
    "DescribeContainerInstances",
    "ListContainerInstances",
    "UpdateContainerInstancesState",
    "SubmitTaskStateChange",
    "SubmitContainerStateChange",
    "DiscoverPollEndpoint",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
]


def test_the_issues_operations_are_implemented_and_all_are_real_ecs_operations() -> None:
    from botocore.loaders import Loader

    from minecs.api.ecs.common import OPERATIONS

    model = Loader().load_service_model("ecs", "service-2")
    assert set(ISSUE_OPERATIONS) <= set(OPERATIONS)
    assert set(OPERATIONS) <= set(model["operations"])  # none that ECS does not have
    for name in OPERATIONS:  # and each reads the members the model gives it
        assert model["operations"][name]["input"]["shape"] in model["shapes"]


async def test_a_cluster_with_tasks_or_instances_cannot_be_deleted(ecs: Ecs, plane: ControlPlane) -> None:
    await ecs("create_cluster", clusterName="busy")
    await ecs("register_task_definition", **taskdef(container()))
    task = (await ecs("run_task", cluster="busy", taskDefinition="web"))["tasks"][0]  # PENDING: no instance
    assert (await ecs.error("delete_cluster", cluster="busy"))[:2] == (
        "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active.",
    )
    await ecs("stop_task", cluster="busy", task=task["taskArn"])
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    await plane.instances.register(Registration("busy", 1024, 1024), token=token)
    assert (await ecs.error("delete_cluster", cluster="busy"))[
        0
    ] == "ClusterContainsContainerInstancesException"
    (arn,) = (await ecs("list_container_instances", cluster="busy"))["containerInstanceArns"]
    await ecs("deregister_container_instance", cluster="busy", containerInstance=arn)
    assert (await ecs("delete_cluster", cluster="busy"))["cluster"]["status"] == "INACTIVE"
