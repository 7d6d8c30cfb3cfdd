"""What boto3 scripts and the aws CLI written against AWS rely on, beyond the shapes (issue 16).

Each behaviour is driven through real boto3 and the real aws CLI against the in-process controller;
the expected values are ECS's, as the API reference states them (quoted where it matters).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from minecs.api.app import build_app
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from tests.unit.minecs.botoclient import ADMIN, AwsCli, Ecs, add_instance

PLAIN = {"family": "plain", "containerDefinitions": [{"name": "app", "image": "busybox", "memory": 32}]}


async def test_a_definition_and_a_service_carry_the_collections_ecs_always_returns(
    ecs: Ecs, aws: AwsCli
) -> None:
    registered = (await ecs("register_task_definition", **PLAIN))["taskDefinition"]
    assert (registered["volumes"], registered["placementConstraints"]) == ([], [])
    assert registered["requiresAttributes"] == []
    assert registered["compatibilities"] == ["EC2", "EXTERNAL"]
    (container,) = registered["containerDefinitions"]
    assert (container["portMappings"], container["environment"], container["mountPoints"]) == ([], [], [])
    assert (container["cpu"], container["essential"], container["volumesFrom"]) == (0, True, [])
    service = (await ecs("create_service", serviceName="web", taskDefinition="plain", desiredCount=0))[
        "service"
    ]
    for member in (
        "loadBalancers",
        "serviceRegistries",
        "events",
        "placementConstraints",
        "placementStrategy",
    ):
        assert service[member] == [], member
    assert len(service["deployments"]) == 1
    assert service["deploymentController"] == {"type": "ECS"}
    described = await aws("describe-task-definition", "--task-definition", "plain")
    assert described["taskDefinition"]["volumes"] == []
    (shown,) = (await aws("describe-services", "--services", "web"))["services"]
    assert (shown["loadBalancers"], shown["serviceRegistries"]) == ([], [])


async def test_create_service_echoes_the_role_it_was_given_as_its_role_arn(ecs: Ecs, aws: AwsCli) -> None:
    await ecs("register_task_definition", **PLAIN)
    named = await ecs(
        "create_service", serviceName="a", taskDefinition="plain", desiredCount=0, role="ecsServiceRole"
    )
    assert named["service"]["roleArn"] == "arn:aws:iam::000000000000:role/ecsServiceRole"
    arn = "arn:aws:iam::000000000000:role/path/custom"
    given = await aws(
        "create-service",
        "--service-name",
        "b",
        "--task-definition",
        "plain",
        "--desired-count",
        "0",
        "--role",
        arn,
    )
    assert given["service"]["roleArn"] == arn
    (described,) = (await ecs("describe_services", services=["b"]))["services"]
    assert described["roleArn"] == arn
    # Without one, ECS names its service-linked role.
    default = (await ecs("create_service", serviceName="c", taskDefinition="plain", desiredCount=0))[
        "service"
    ]
    assert default["roleArn"].endswith(":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")


async def test_tags_are_shown_by_describe_calls_only_when_include_tags_asks(
    ecs: Ecs, aws: AwsCli, plane: ControlPlane
) -> None:
    tags = [{"key": "team", "value": "edge"}]
    await ecs("create_cluster", clusterName="tagged", tags=tags)
    await ecs("register_task_definition", **PLAIN)
    await ecs(
        "create_service",
        cluster="tagged",
        serviceName="web",
        taskDefinition="plain",
        desiredCount=0,
        tags=tags,
    )
    await add_instance(plane)
    task = (await ecs("run_task", taskDefinition="plain", tags=tags))["tasks"][0]["taskArn"]

    (cluster,) = (await ecs("describe_clusters", clusters=["tagged"]))["clusters"]
    (service,) = (await ecs("describe_services", cluster="tagged", services=["web"]))["services"]
    (run,) = (await ecs("describe_tasks", tasks=[task]))["tasks"]
    assert ("tags" not in cluster, "tags" not in service, "tags" not in run) == (True, True, True)

    (cluster,) = (await ecs("describe_clusters", clusters=["tagged"], include=["TAGS"]))["clusters"]
    (service,) = (await ecs("describe_services", cluster="tagged", services=["web"], include=["TAGS"]))[
        "services"
    ]
    (run,) = (await ecs("describe_tasks", tasks=[task], include=["TAGS"]))["tasks"]
    assert (cluster["tags"], service["tags"], run["tags"]) == (tags, tags, tags)

    (plain,) = (await aws("describe-clusters", "--clusters", "tagged"))["clusters"]
    (asked,) = (await aws("describe-clusters", "--clusters", "tagged", "--include", "TAGS"))["clusters"]
    assert ("tags" not in plain, asked["tags"]) == (True, tags)
    (asked_task,) = (await aws("describe-tasks", "--tasks", task, "--include", "TAGS"))["tasks"]
    assert asked_task["tags"] == tags


async def test_a_deleted_service_is_not_listed_and_describes_draining_then_inactive(
    ecs: Ecs, aws: AwsCli, plane: ControlPlane
) -> None:
    """ "the service is no longer visible ... in the ListServices API operation ... Services in the
    DRAINING or INACTIVE status can still be viewed with the DescribeServices API operation"
    (DeleteService, ECS API reference)."""
    await ecs("register_task_definition", **PLAIN)
    await ecs("create_service", serviceName="gone", taskDefinition="plain", desiredCount=0)
    await ecs("create_service", serviceName="kept", taskDefinition="plain", desiredCount=0)
    deleted = (await ecs("delete_service", service="gone"))["service"]
    assert deleted["status"] == "DRAINING"
    listed = (await ecs("list_services"))["serviceArns"]
    assert [a.rsplit("/", 1)[-1] for a in listed] == ["kept"]
    await plane.services.reconcile("default/gone")
    (described,) = (await ecs("describe_services", services=["gone"]))["services"]
    assert described["status"] == "INACTIVE"
    (cli,) = (await aws("describe-services", "--services", "gone"))["services"]
    assert cli["status"] == "INACTIVE"
    assert [a.rsplit("/", 1)[-1] for a in (await aws("list-services"))["serviceArns"]] == ["kept"]


async def test_arns_carry_the_region_of_the_callers_credential_scope(
    server: TestClient[Any, Any], plane: ControlPlane
) -> None:
    url = str(server.make_url("/"))
    ohio = Ecs(url, region="us-east-2")
    cluster = (await ohio("create_cluster", clusterName="ohio"))["cluster"]
    assert cluster["clusterArn"] == "arn:aws:ecs:us-east-2:000000000000:cluster/ohio"
    registered = (await ohio("register_task_definition", **PLAIN))["taskDefinition"]
    assert registered["taskDefinitionArn"] == "arn:aws:ecs:us-east-2:000000000000:task-definition/plain:1"
    await add_instance(plane)
    (task,) = (await ohio("run_task", taskDefinition=registered["taskDefinitionArn"]))["tasks"]
    assert task["taskArn"].startswith("arn:aws:ecs:us-east-2:000000000000:task/default/")
    assert task["containers"][0]["containerArn"].startswith("arn:aws:ecs:us-east-2:")
    # An ARN of the caller's region finds the object; the same object in another region's answer.
    (found,) = (await ohio("describe_tasks", tasks=[task["taskArn"]]))["tasks"]
    assert found["clusterArn"] == "arn:aws:ecs:us-east-2:000000000000:cluster/default"
    (seen,) = (await Ecs(url, region="us-east-1")("describe_tasks", tasks=[task["taskArn"]]))["tasks"]
    assert seen["taskArn"] == task["taskArn"].replace("us-east-2", "us-east-1")
    cli = await AwsCli(url)("list-clusters", region="eu-west-3")
    assert "arn:aws:ecs:eu-west-3:000000000000:cluster/ohio" in cli["clusterArns"]


async def test_an_unsigned_call_gets_arns_in_the_controllers_region(tmp_path: Any) -> None:
    plane = await ControlPlane.open(tmp_path, Identity(region="eu-central-1"))
    try:
        app = build_app(plane, ADMIN, ecs_unsigned_loopback=True)
        async with TestClient(TestServer(app)) as client:
            aws = AwsCli(str(client.make_url("/")), region="us-west-2")
            status, out, err = await aws.run("list-clusters", "--no-sign-request")
            assert status == 0, err
            assert json.loads(out)["clusterArns"] == ["arn:aws:ecs:eu-central-1:000000000000:cluster/default"]
    finally:
        await plane.close()


async def test_list_task_definitions_family_prefix_is_the_full_family_name(ecs: Ecs, aws: AwsCli) -> None:
    """ "familyPrefix: The full family name to filter the ListTaskDefinitions results with" (ECS API)."""
    for family in ("web", "webapp", "web"):
        await ecs("register_task_definition", **{**PLAIN, "family": family})
    listed = (await ecs("list_task_definitions", familyPrefix="web"))["taskDefinitionArns"]
    assert [a.rsplit("/", 1)[-1] for a in listed] == ["web:1", "web:2"]
    cli = await aws("list-task-definitions", "--family-prefix", "web", "--sort", "DESC")
    assert [a.rsplit("/", 1)[-1] for a in cli["taskDefinitionArns"]] == ["web:2", "web:1"]
    assert (await ecs("list_task_definitions", familyPrefix="we"))["taskDefinitionArns"] == []
    # ListTaskDefinitionFamilies's familyPrefix is a prefix.
    families = (await ecs("list_task_definition_families", familyPrefix="web"))["families"]
    assert families == ["web", "webapp"]


async def test_an_instance_identity_document_gives_the_instance_its_ec2_instance_id(
    ecs: Ecs, aws: AwsCli
) -> None:
    document = json.dumps({"instanceId": "i-0123456789abcdef0", "region": "us-east-1"})
    resources = [{"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}]
    registered = await ecs(
        "register_container_instance", instanceIdentityDocument=document, totalResources=resources
    )
    assert registered["containerInstance"]["ec2InstanceId"] == "i-0123456789abcdef0"
    other = json.dumps({"instanceId": "i-0fedcba9876543210"})
    cli = await aws("register-container-instance", "--instance-identity-document", other)
    assert cli["containerInstance"]["ec2InstanceId"] == "i-0fedcba9876543210"
    arns = (await ecs("list_container_instances"))["containerInstanceArns"]
    described = (await ecs("describe_container_instances", containerInstances=arns))["containerInstances"]
    assert sorted(i["ec2InstanceId"] for i in described) == ["i-0123456789abcdef0", "i-0fedcba9876543210"]
    code, message, _ = await ecs.error("register_container_instance", instanceIdentityDocument="{not json")
    assert (code, message) == (
        "InvalidParameterException",
        "instanceIdentityDocument is not a valid instance identity document.",
    )


async def test_create_service_retried_with_the_same_members_returns_the_same_service(
    ecs: Ecs, aws: AwsCli
) -> None:
    await ecs("register_task_definition", **PLAIN)
    first = (await ecs("create_service", serviceName="web", taskDefinition="plain", desiredCount=1))[
        "service"
    ]
    again = (await ecs("create_service", serviceName="web", taskDefinition="plain", desiredCount=1))[
        "service"
    ]
    assert (again["serviceArn"], again["createdAt"]) == (first["serviceArn"], first["createdAt"])
    assert len(again["deployments"]) == 1
    code, message, _ = await ecs.error(
        "create_service", serviceName="web", taskDefinition="plain", desiredCount=2
    )
    assert (code, message) == ("InvalidParameterException", "Creation of service was not idempotent.")
    line = await aws.error(
        "create-service", "--service-name", "web", "--task-definition", "plain", "--desired-count", "3"
    )
    assert line == (
        "An error occurred (InvalidParameterException) when calling the CreateService operation: "
        "Creation of service was not idempotent."
    )
