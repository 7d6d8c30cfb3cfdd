"""Task-level rules: family, cpu/memory units and totals, Fargate, volumes and mounts, tags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.taskdefs import container, problems, taskdef, valid

CE = "ClientException"


@pytest.mark.parametrize("family", ["", "a b", "x" * 256, "web/1"])
def test_family_pattern(family: str) -> None:
    assert problems(taskdef(family=family)) == [
        (
            CE,
            "family",
            f"Invalid family '{family}': up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.",
        )
    ]


def test_family_is_required() -> None:
    assert problems({"containerDefinitions": [container()]}) == [
        (CE, "family", 'Missing required parameter in input: "family"')
    ]


@pytest.mark.parametrize(
    ("cpu", "memory", "normal"),
    [("1 vCPU", "2 GB", ("1024", "2048")), (512, 1024, ("512", "1024")), ("0.5 vcpu", "512", ("512", "512"))],
)
def test_task_units_are_normalised_to_integers(cpu: Any, memory: Any, normal: tuple[str, str]) -> None:
    spec = valid(taskdef(container(memory=None, memoryReservation=64), cpu=cpu, memory=memory))
    assert (spec.cpu, spec.memory) == normal


def test_unreadable_and_out_of_range_task_sizes() -> None:
    assert problems(taskdef(cpu="lots", memory="2 TB")) == [
        (CE, "cpu", "Invalid 'cpu' setting for task: 'lots'. Use CPU units, e.g. 1024 or '1 vCPU'."),
        (CE, "memory", "Invalid 'memory' setting for task: '2 TB'. Use MiB, e.g. 2048 or '2 GB'."),
    ]
    assert problems(taskdef(cpu="64")) == [
        (CE, "cpu", "Invalid 'cpu' setting for task. Must be between 128 and 196608 CPU units.")
    ]


def test_containers_must_fit_in_the_task() -> None:
    doc = taskdef(
        container("a", memory=600, cpu=512),
        container("b", memoryReservation=100, memory=None, cpu=600),
        cpu="1024",
        memory="512",
    )
    assert problems(doc) == [
        (
            CE,
            "containerDefinitions[0].memory",
            "Invalid 'memory' setting for container 'a'. It exceeds the task memory (512 MiB).",
        ),
        (CE, "memory", "The containers reserve 700 MiB in total, more than the task memory (512 MiB)."),
        (CE, "cpu", "The containers reserve 1112 CPU units in total, more than the task cpu (1024)."),
    ]


def test_fargate_rules() -> None:
    fargate: dict[str, Any] = {
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
    }
    valid(taskdef(container(memory=None), **fargate))
    assert problems(taskdef(container(), **{**fargate, "networkMode": "bridge"})) == [
        (CE, "networkMode", "Fargate only supports network mode 'awsvpc'.")
    ]
    assert problems(taskdef(container(), **{**fargate, "cpu": None})) == [
        (CE, "cpu", "Fargate requires task-level 'cpu' and 'memory'.")
    ]
    assert problems(taskdef(container(memory=None), **{**fargate, "memory": "3072"})) == [
        (
            CE,
            "memory",
            "No Fargate configuration exists for given values: 256 CPU, 3072 memory. See the Amazon ECS documentation for the valid values.",
        )
    ]


def test_volumes_and_mount_points() -> None:
    valid(
        taskdef(
            container(
                mountPoints=[
                    {"sourceVolume": "data", "containerPath": "/data", "readOnly": True},
                    {"sourceVolume": "scratch", "containerPath": "/tmp/s"},
                    {"sourceVolume": "cache", "containerPath": "/cache"},
                ]
            ),
            volumes=[
                {"name": "data", "host": {"sourcePath": "/srv/data"}},
                {"name": "scratch"},
                {
                    "name": "cache",
                    "dockerVolumeConfiguration": {
                        "scope": "shared",
                        "autoprovision": True,
                        "driver": "local",
                        "driverOpts": {"type": "tmpfs"},
                        "labels": {"a": "b"},
                    },
                },
            ],
        )
    )
    found = problems(
        taskdef(
            container(mountPoints=[{"sourceVolume": "nope", "containerPath": "data"}]),
            volumes=[
                {"name": "a", "host": {"sourcePath": "relative"}},
                {"name": "a"},
                {"name": "t", "dockerVolumeConfiguration": {"scope": "task", "autoprovision": True}},
                {"name": "both", "host": {}, "dockerVolumeConfiguration": {"scope": "task"}},
            ],
        )
    )
    assert found == [
        (CE, "volumes[0].host.sourcePath", "Volume 'a': host.sourcePath must be an absolute path."),
        (CE, "volumes[1].name", "Volume name 'a' is declared more than once."),
        (
            CE,
            "volumes[2].dockerVolumeConfiguration.autoprovision",
            "Volume 't': autoprovision can only be set when scope is shared.",
        ),
        (CE, "volumes[3]", "Volume 'both': set either host or dockerVolumeConfiguration, not both."),
        (
            CE,
            "containerDefinitions[0].mountPoints[0].sourceVolume",
            "Source volume 'nope' for container 'app' is not declared in volumes.",
        ),
        (
            CE,
            "containerDefinitions[0].mountPoints[0].containerPath",
            "Mount point of container 'app' needs an absolute containerPath.",
        ),
    ]


@pytest.mark.parametrize(
    ("volume", "member"),
    [
        (
            {"fsxWindowsFileServerVolumeConfiguration": {"fileSystemId": "fs-1"}},
            "fsxWindowsFileServerVolumeConfiguration",
        ),
        ({"s3filesVolumeConfiguration": {"fileSystemArn": "arn"}}, "s3filesVolumeConfiguration"),
    ],
)
def test_cloud_only_volumes_are_refused(volume: dict[str, Any], member: str) -> None:
    assert problems(taskdef(volumes=[{"name": "v", **volume}])) == [
        (
            CE,
            f"volumes[0].{member}",
            f"Volume 'v': {member} is not available on a minecs host. Use host.sourcePath or dockerVolumeConfiguration.",
        )
    ]
    assert problems(taskdef(volumes=[{"name": "v", "configuredAtLaunch": True}])) == [
        (
            CE,
            "volumes[0].configuredAtLaunch",
            "Volume 'v': configuredAtLaunch is not available on a minecs host.",
        )
    ]


def test_tags_placement_and_proxy() -> None:
    valid(
        taskdef(
            tags=[{"key": "team", "value": "a"}],
            placementConstraints=[{"type": "memberOf", "expression": "attribute:x == y"}],
        )
    )
    found = problems(
        taskdef(
            tags=[
                {"key": "aws:x", "value": "1"},
                {"key": "k"},
                {"key": "k", "value": "v" * 257},
                {"value": "x"},
            ],
            placementConstraints=[{"type": "memberOf"}],
            proxyConfiguration={
                "containerName": "envoy",
                "type": "APPMESH",
                "properties": [{"name": "AppPorts"}],
            },
        )
    )
    assert found == [
        (CE, "tags[0].key", "Tag key 'aws:x' uses the reserved prefix aws:."),
        (CE, "tags[2].key", "Tag key 'k' is set more than once."),
        (CE, "tags[2].value", "Tag values must be at most 256 characters."),
        (CE, "tags[3].key", "Tag keys must be 1 to 128 characters."),
        (CE, "placementConstraints[0].expression", "A memberOf placement constraint needs an expression."),
        (
            CE,
            "proxyConfiguration.properties[0].value",
            "ProxyConfiguration properties value cannot be null.",
        ),
    ]
    assert problems(taskdef(tags=[{"key": f"k{i}"} for i in range(51)])) == [
        (CE, "tags", "A resource can have at most 50 tags.")
    ]


def test_a_task_definitions_placement_constraint_is_member_of_only() -> None:
    """ECS's TaskDefinitionPlacementConstraintType: distinctInstance is a service's or RunTask's; the
    refusal is a structural one, in ECS's enum wording and in member order."""
    found = problems(
        taskdef(
            placementConstraints=[
                {"expression": "attribute:x == y"},
                {"type": "distinctInstance", "expression": 1},
            ],
            pidMode="shared",
        )
    )
    assert found == [
        (
            CE,
            "placementConstraints[1].type",
            "Value 'distinctInstance' at 'placementConstraints[1].type' failed to satisfy constraint: "
            "Member must satisfy enum value set: [memberOf]",
        ),
        (
            CE,
            "placementConstraints[1].expression",
            "Invalid type for parameter placementConstraints[1].expression, value: 1, type: <class 'int'>, "
            "valid types: <class 'str'>",
        ),
        (
            CE,
            "pidMode",
            "Value 'shared' at 'pidMode' failed to satisfy constraint: Member must satisfy enum value set: "
            "[host, task]",
        ),
    ]


def test_every_problem_in_a_document_is_reported_at_once() -> None:
    doc = taskdef(
        container(
            "a",
            image="",
            dependsOn=[{"containerName": "zz", "condition": "START"}],
            portMappings=[{"containerPort": 0}],
        ),
        family="bad family",
        networkMode="bridge",
        cpu="nope",
    )
    assert [path for _, path, _ in problems(doc)] == [
        "family",
        "containerDefinitions[0].image",
        "containerDefinitions[0].dependsOn[0].containerName",
        "containerDefinitions[0].portMappings[0].containerPort",
        "cpu",
    ]
