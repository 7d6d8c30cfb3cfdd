"""The oracle for ECS answers: botocore's ECS service model, applied to the raw JSON minecs sends.

botocore's parser drops members it does not know and lets wrong types through, so a test of the
parsed result cannot see either. ``RawAnswers`` hooks botocore's ``before-parse`` event and keeps
the bytes each call received; ``violations`` walks them against the model's output shape: a member
the shape does not have, a value of the wrong JSON type, a string outside its enum, and a member
missing that ECS always returns (``ALWAYS``).

``ALWAYS`` is written from AWS's own example responses (the API reference's DescribeTaskDefinition,
DescribeServices, DescribeTasks, DescribeClusters and DescribeContainerInstances examples, and the
aws CLI's ``ecs`` examples), not from minecs's code: these members are in every answer ECS gives,
empty or not, and scripts index them without ``.get``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore

_DATA = Path(botocore.__file__).parent / "data" / "ecs" / "2014-11-13"


def load_model() -> dict[str, Any]:
    plain = _DATA / "service-2.json"
    if plain.exists():
        return json.loads(plain.read_text())  # type: ignore[no-any-return]
    return json.loads(gzip.decompress((_DATA / "service-2.json.gz").read_bytes()))  # type: ignore[no-any-return]


MODEL = load_model()

ALWAYS: dict[str, tuple[str, ...]] = {
    "Cluster": (
        "clusterArn",
        "clusterName",
        "status",
        "registeredContainerInstancesCount",
        "runningTasksCount",
        "pendingTasksCount",
        "activeServicesCount",
        "statistics",
        "settings",
        "capacityProviders",
        "defaultCapacityProviderStrategy",
    ),
    "TaskDefinition": (
        "taskDefinitionArn",
        "containerDefinitions",
        "family",
        "revision",
        "volumes",
        "status",
        "requiresAttributes",
        "placementConstraints",
        "compatibilities",
        "registeredAt",
        "registeredBy",
    ),
    "ContainerDefinition": (
        "name",
        "image",
        "cpu",
        "portMappings",
        "essential",
        "environment",
        "mountPoints",
        "volumesFrom",
        "systemControls",
    ),
    "Service": (
        "serviceArn",
        "serviceName",
        "clusterArn",
        "loadBalancers",
        "serviceRegistries",
        "status",
        "desiredCount",
        "runningCount",
        "pendingCount",
        "taskDefinition",
        "deploymentConfiguration",
        "deployments",
        "roleArn",
        "events",
        "createdAt",
        "placementConstraints",
        "placementStrategy",
        "schedulingStrategy",
        "deploymentController",
        "createdBy",
        "enableECSManagedTags",
        "propagateTags",
        "enableExecuteCommand",
    ),
    "Deployment": (
        "id",
        "status",
        "taskDefinition",
        "desiredCount",
        "pendingCount",
        "runningCount",
        "failedTasks",
        "createdAt",
        "updatedAt",
        "rolloutState",
        "rolloutStateReason",
    ),
    "DeploymentConfiguration": ("deploymentCircuitBreaker", "maximumPercent", "minimumHealthyPercent"),
    "Task": (
        "attachments",
        "attributes",
        "clusterArn",
        "containers",
        "createdAt",
        "desiredStatus",
        "enableExecuteCommand",
        "group",
        "healthStatus",
        "lastStatus",
        "launchType",
        "overrides",
        "taskArn",
        "taskDefinitionArn",
        "version",
    ),
    "TaskOverride": ("containerOverrides", "inferenceAcceleratorOverrides"),
    "Container": (
        "containerArn",
        "taskArn",
        "name",
        "image",
        "lastStatus",
        "networkBindings",
        "networkInterfaces",
        "healthStatus",
    ),
    "ContainerInstance": (
        "containerInstanceArn",
        "ec2InstanceId",
        "version",
        "versionInfo",
        "remainingResources",
        "registeredResources",
        "status",
        "agentConnected",
        "runningTasksCount",
        "pendingTasksCount",
        "attributes",
        "registeredAt",
        "attachments",
    ),
    "Failure": ("arn", "reason"),
}


def violations(value: Any, shape_name: str, path: str = "$") -> Iterator[str]:
    """Every way ``value`` (raw JSON) departs from the model's ``shape_name`` and ``ALWAYS``."""
    shape = MODEL["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        yield from _structure(value, shape_name, shape, path)
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{path}: {type(value).__name__}, the model says a list ({shape_name})"
            return
        for index, item in enumerate(value):
            yield from violations(item, shape["member"]["shape"], f"{path}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"{path}: {type(value).__name__}, the model says a map ({shape_name})"
            return
        for key, item in value.items():
            yield from violations(key, shape["key"]["shape"], f"{path}.<key {key}>")
            yield from violations(item, shape["value"]["shape"], f"{path}[{key!r}]")
    else:
        yield from _scalar(value, shape_name, shape, path)


def _structure(value: Any, shape_name: str, shape: dict[str, Any], path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path}: {type(value).__name__}, the model says a structure ({shape_name})"
        return
    members = shape.get("members", {})
    for name, item in value.items():
        if name not in members:
            yield f"{path}.{name}: not a member of {shape_name}"
        elif item is None:
            yield f"{path}.{name}: null (ECS leaves a member out instead)"
        else:
            yield from violations(item, members[name]["shape"], f"{path}.{name}")
    for name in ALWAYS.get(shape_name, ()):
        if name not in value:
            yield f"{path}.{name}: missing; ECS always returns it in a {shape_name}"


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float),
}


def _scalar(value: Any, shape_name: str, shape: dict[str, Any], path: str) -> Iterator[str]:
    kind = shape["type"]
    wanted = _JSON_TYPES[kind]
    wrong_bool = isinstance(value, bool) and kind != "boolean"
    if wrong_bool or not isinstance(value, wanted):
        yield f"{path}: {value!r} is not a JSON {kind} ({shape_name})"
        return
    if "enum" in shape and value not in shape["enum"]:
        yield f"{path}: {value!r} is not one of {shape_name}'s values {shape['enum']}"


class RawAnswers:
    """The raw JSON body of every successful call a botocore client makes, by operation."""

    def __init__(self, client: Any) -> None:
        self.bodies: list[tuple[str, Any]] = []
        client.meta.events.register("before-parse.ecs.*", self._keep)

    def _keep(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        if response_dict["status_code"] < 300:
            self.bodies.append((operation_model.name, json.loads(response_dict["body"] or b"{}")))

    def violations(self) -> list[str]:
        found = []
        for operation, body in self.bodies:
            output = MODEL["operations"][operation]["output"]["shape"]
            found += [f"{operation} {v}" for v in violations(body, output)]
        return found

    def operations(self) -> set[str]:
        return {operation for operation, _ in self.bodies}
