"""Which error ECS answers, and in which words, through real boto3 and the real aws CLI.

Issue 16's "Errors" part: a missing cluster is ``ClusterNotFoundException`` before anything about
the service or task in it; a ``ClientException``'s message is ECS's sentence alone (the first
problem found), while the native API keeps every problem with its path; tags on a resource that
does not exist are refused with the error ECS gives for that resource. Each case is asked of boto3
and of ``python -m awscli`` against the same in-process server (``cli``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.apiclient import AUTH
from tests.unit.minecs.botoclient import AwsCli, Ecs, add_instance

CLI_ERROR = re.compile(r"An error occurred \((?P<code>\w+)\) when calling the \w+ operation: (?P<message>.*)")


async def cli(server: TestClient[Any, Any], *args: str) -> tuple[str, str]:
    """The aws CLI's ``(code, message)`` for a call that must fail, read from its stderr."""
    returncode, _, err = await run_cli(server, *args)
    assert returncode != 0, "the aws CLI call succeeded"
    found = CLI_ERROR.search(err)
    assert found is not None, err
    return found["code"], found["message"].strip()


async def run_cli(server: TestClient[Any, Any], *args: str) -> tuple[int, str, str]:
    """``python -m awscli ecs <args>`` against ``server`` as the admin: exit status, stdout, stderr."""
    return await AwsCli(str(server.make_url("/")), region="eu-west-1").run(*args)


async def register(
    ecs: Ecs, server: TestClient[Any, Any], containers: list[dict[str, Any]]
) -> tuple[str, str]:
    """RegisterTaskDefinition of family ``web`` with ``containers``, refused the same way by both."""
    return await both(
        ecs,
        server,
        "register_task_definition",
        {"family": "web", "containerDefinitions": containers},
        "register-task-definition",
        "--family",
        "web",
        "--container-definitions",
        json.dumps(containers),
    )


async def both(
    ecs: Ecs, server: TestClient[Any, Any], operation: str, members: dict[str, Any], *args: str
) -> tuple[str, str]:
    """The same refusal through boto3 and the aws CLI; both must agree, and that answer is returned."""
    code, message, status = await ecs.error(operation, **members)
    assert status == 400
    assert await cli(server, *args) == (code, message)
    return code, message


# ---------------------------------------------------------------------------- ECS's sentence alone


@pytest.mark.parametrize(
    ("containers", "sentence"),
    [
        ([{"image": "busybox", "memory": 64}], "Container.name should not be null or empty."),
        ([{"name": "hello_world", "memory": 64}], "Container.image should not be null or empty."),
        (
            [{"name": "hello_world", "image": "busybox"}],
            "Invalid setting for container 'hello_world'. At least one of 'memory' or "
            "'memoryReservation' must be specified.",
        ),
        ([], "Container list cannot be empty."),
    ],
)
async def test_a_client_exception_is_ecs_sentence_alone(
    ecs: Ecs, server: TestClient[Any, Any], containers: list[dict[str, Any]], sentence: str
) -> None:
    assert await register(ecs, server, containers) == ("ClientException", sentence)


async def test_the_first_problem_is_the_first_container_s_first(
    ecs: Ecs, server: TestClient[Any, Any]
) -> None:
    """Two containers, both wrong: ECS names the first one's first problem, and only that."""
    containers = [{"name": "a", "memory": 64}, {"image": "busybox", "memory": 64}]
    assert await register(ecs, server, containers) == (
        "ClientException",
        "Container.image should not be null or empty.",
    )


async def test_deregistering_a_family_without_a_revision_is_revision_is_missing(
    ecs: Ecs, server: TestClient[Any, Any]
) -> None:
    await ecs("register_task_definition", **taskdef(container()))
    answer = await both(
        ecs,
        server,
        "deregister_task_definition",
        {"taskDefinition": "web"},
        "deregister-task-definition",
        "--task-definition",
        "web",
    )
    assert answer == ("ClientException", "Revision is missing.")


async def test_the_native_api_keeps_every_problem_with_its_path(
    client: TestClient[Any, Any], plane: ControlPlane
) -> None:
    response = await client.post(
        "/v1/taskdefinitions",
        json={"family": "web", "containerDefinitions": [{"name": "a", "memory": 64}, {"image": "b"}]},
        headers=AUTH,
    )
    answer = await response.json()
    assert response.status == 400
    assert [p["path"] for p in answer["problems"]][:2] == [
        "containerDefinitions[0].image",
        "containerDefinitions[1].name",
    ]
    assert answer["message"].startswith("containerDefinitions[0].image: Container.image should not be null")


# ---------------------------------------------------------------------------- rules ECS does not make here

LENIENT = {
    "family": "web",
    "containerDefinitions": [
        {"name": "db", "image": "busybox", "memory": 64},
        {
            "name": "app",
            "image": "busybox",
            "memory": 64,
            "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}],
        },
    ],
    "proxyConfiguration": {
        "type": "APPMESH",
        "containerName": "envoy",
        "properties": [{"name": "AppPorts", "value": "80"}],
    },
}


async def test_checks_ecs_leaves_to_run_time_do_not_refuse_registration(
    ecs: Ecs, server: TestClient[Any, Any], tmp_path: Any
) -> None:
    """HEALTHY on a container without a healthCheck, a proxy container that is not in the task."""
    assert (await ecs("register_task_definition", **LENIENT))["taskDefinition"]["revision"] == 1
    document = tmp_path / "td.json"
    document.write_text(json.dumps(LENIENT))
    returncode, out, err = await run_cli(
        server, "register-task-definition", "--cli-input-json", f"file://{document}"
    )
    assert returncode == 0, err
    assert json.loads(out)["taskDefinition"]["revision"] == 2


async def test_a_proxy_property_without_a_value_is_refused_in_ecs_words(
    ecs: Ecs, server: TestClient[Any, Any]
) -> None:
    proxy = {"type": "APPMESH", "containerName": "app", "properties": [{"name": "AppPorts"}]}
    answer = await both(
        ecs,
        server,
        "register_task_definition",
        {**taskdef(container()), "proxyConfiguration": proxy},
        "register-task-definition",
        "--family",
        "web",
        "--container-definitions",
        json.dumps(taskdef(container())["containerDefinitions"]),
        "--proxy-configuration",
        json.dumps(proxy),
    )
    assert answer == ("ClientException", "ProxyConfiguration properties value cannot be null.")


# ---------------------------------------------------------------------------- precedence

CLUSTER_NOT_FOUND = ("ClusterNotFoundException", "Cluster not found.")
NOWHERE = "nowhere"


@pytest.mark.parametrize(
    ("operation", "members", "args"),
    [
        ("delete_service", {"service": "ghost"}, ("delete-service", "--service", "ghost")),
        ("update_service", {"service": "ghost"}, ("update-service", "--service", "ghost")),
        ("stop_task", {"task": "0" * 32}, ("stop-task", "--task", "0" * 32)),
        (
            "start_task",
            {"taskDefinition": "ghost:1", "containerInstances": ["i-0"]},
            ("start-task", "--task-definition", "ghost:1", "--container-instances", "i-0"),
        ),
        ("list_services", {}, ("list-services",)),
        ("list_tasks", {}, ("list-tasks",)),
        ("list_tasks", {"serviceName": "ghost"}, ("list-tasks", "--service-name", "ghost")),
        (
            "describe_container_instances",
            {"containerInstances": ["i-0"]},
            ("describe-container-instances", "--container-instances", "i-0"),
        ),
        ("describe_tasks", {"tasks": ["0" * 32]}, ("describe-tasks", "--tasks", "0" * 32)),
    ],
)
async def test_an_unknown_cluster_is_cluster_not_found_before_anything_in_it(
    ecs: Ecs, server: TestClient[Any, Any], operation: str, members: dict[str, Any], args: tuple[str, ...]
) -> None:
    """The service, task, instance or task definition named is unknown too: the cluster is said first,
    and a list or describe call raises rather than answering empty."""
    answer = await both(ecs, server, operation, {"cluster": NOWHERE, **members}, *args, "--cluster", NOWHERE)
    assert answer == CLUSTER_NOT_FOUND


# ---------------------------------------------------------------------------- tags on missing resources

ARN = "arn:aws:ecs:eu-west-1:000000000000"


async def tag_refusals(ecs: Ecs, server: TestClient[Any, Any], arn: str) -> tuple[str, str]:
    """ListTagsForResource, TagResource and UntagResource on ``arn`` all refuse alike; the refusal."""
    answer = await both(
        ecs,
        server,
        "list_tags_for_resource",
        {"resourceArn": arn},
        "list-tags-for-resource",
        "--resource-arn",
        arn,
    )
    assert (await ecs.error("tag_resource", resourceArn=arn, tags=[{"key": "k", "value": "v"}]))[:2] == answer
    assert (await ecs.error("untag_resource", resourceArn=arn, tagKeys=["k"]))[:2] == answer
    return answer


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("cluster/nowhere", CLUSTER_NOT_FOUND),
        ("service/nowhere/ghost", CLUSTER_NOT_FOUND),
        ("task/nowhere/" + "0" * 32, CLUSTER_NOT_FOUND),
        ("container-instance/nowhere/i-0", CLUSTER_NOT_FOUND),
        ("service/default/ghost", ("ServiceNotFoundException", "Service not found.")),
        ("task/default/" + "0" * 32, ("InvalidParameterException", "The referenced task was not found.")),
        (
            "container-instance/default/i-0",
            ("InvalidParameterException", "The referenced container instance was not found."),
        ),
        ("task-definition/ghost:1", ("ClientException", "Unable to describe task definition.")),
        (
            "service/ghost",
            ("InvalidParameterException", "Long arn format must be used for tagging operations"),
        ),
    ],
)
async def test_tags_on_a_missing_resource_get_ecs_error_for_that_resource(
    ecs: Ecs, server: TestClient[Any, Any], resource: str, expected: tuple[str, str]
) -> None:
    assert await tag_refusals(ecs, server, f"{ARN}:{resource}") == expected


async def test_tags_on_a_deleted_cluster_or_a_stopped_task_are_refused_as_ecs_does(
    ecs: Ecs, server: TestClient[Any, Any], plane: ControlPlane
) -> None:
    await ecs("create_cluster", clusterName="gone")
    await ecs("delete_cluster", cluster="gone")
    assert await tag_refusals(ecs, server, f"{ARN}:cluster/gone") == (
        "InvalidParameterException",
        "The specified cluster is inactive. Specify an active cluster and try again.",
    )
    await ecs("register_task_definition", **taskdef(container()))
    task = (await ecs("run_task", taskDefinition="web"))["tasks"][0]["taskArn"]
    await ecs("stop_task", task=task)  # never placed: it is STOPPED at once
    assert await tag_refusals(ecs, server, task) == (
        "InvalidParameterException",
        "The specified task is stopped. Specify a running task and try again.",
    )


async def test_a_container_instance_keeps_its_tags(ecs: Ecs, plane: ControlPlane) -> None:
    instance = await add_instance(plane)
    arn = f"{ARN}:container-instance/default/{instance}"
    await ecs("tag_resource", resourceArn=arn, tags=[{"key": "rack", "value": "r1"}])
    assert (await ecs("list_tags_for_resource", resourceArn=arn))["tags"] == [{"key": "rack", "value": "r1"}]


async def test_an_arn_of_another_service_is_invalid(ecs: Ecs, server: TestClient[Any, Any]) -> None:
    arn = "arn:aws:ecr:eu-west-1:000000000000:repository/web"
    assert await tag_refusals(ecs, server, arn) == (
        "InvalidParameterException",
        "The ARN provided is invalid.",
    )
