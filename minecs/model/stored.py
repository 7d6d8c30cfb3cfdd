"""What the store holds: typed views of the stored task, service and deployment bodies, and ids.

A stored body is ECS's own JSON form of the object plus a few minecs members (a task's
``reserved``, ``placement``, ``seq``, ``instanceId``; a service's ``cluster`` and its last
completed deployment), so the API answers from it with one allow-list walk. These
``TypedDict(total=False)`` classes name every member the control plane reads or writes, so mypy
checks the names where a body is made; a body read back from the store is one of them by
``stored_task`` / ``stored_service``, the one place that says so.

Design decision: ``total=False`` because ECS's forms omit members freely (a never-placed task has no
``containerInstanceArn``), and bodies stored by an older minecs lack members added since; readers
use ``.get`` for those and ``[...]`` only for the members every version wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NewType, TypedDict, cast

TASK_KIND = "task"
"""The store's kind for tasks (a task's key is its id)."""
SERVICE_KIND = "service"
"""The store's kind for services (a service's key is ``<cluster>/<name>``)."""

TaskId = NewType("TaskId", str)
"""A task's id: the last part of its ARN, and its key in the store."""
InstanceId = NewType("InstanceId", str)
"""A container instance's id (the agent's registration), a placed task's ``parent``."""
ClusterName = NewType("ClusterName", str)
DeploymentId = NewType("DeploymentId", str)
"""``ecs-svc/<19 digits>``, as ECS numbers deployments."""


class ContainerBody(TypedDict, total=False):
    containerArn: str
    taskArn: str
    name: str
    image: str
    runtimeId: str
    lastStatus: str
    exitCode: int
    reason: str
    networkBindings: list[dict[str, Any]]
    healthStatus: str


class PlacementBody(TypedDict):
    strategies: list[dict[str, str]]
    constraints: list[dict[str, str]]


class TaskBody(TypedDict, total=False):
    taskArn: str
    clusterArn: str
    taskDefinitionArn: str
    containerInstanceArn: str
    lastStatus: str
    desiredStatus: str
    healthStatus: str
    group: str
    startedBy: str | None
    enableExecuteCommand: bool
    cpu: str | None
    memory: str | None
    overrides: dict[str, Any]
    tags: list[Any]
    createdAt: float
    containers: list[ContainerBody]
    launchType: str
    capacityProviderName: str
    platformVersion: str
    attachments: list[dict[str, Any]]
    stopCode: str | None
    stoppedReason: str | None
    pullStartedAt: float
    pullStoppedAt: float
    startedAt: float
    stoppingAt: float
    executionStoppedAt: float
    stoppedAt: float
    # minecs members
    seq: int
    """The agent's report sequence; a report at or below it changes nothing."""
    instanceId: str
    """The instance it is placed on; "" while unplaced."""
    reserved: dict[str, Any]
    """Its need (cpu, memory, ports, attributes), as ``scheduling.needs.encode_need`` writes it."""
    placement: PlacementBody
    placementReason: str | None
    hasHealthCheck: bool
    nfsVolumes: dict[str, Any]


class DeploymentBody(TypedDict, total=False):
    id: str
    status: str
    taskDefinition: str
    desiredCount: int
    pendingCount: int
    runningCount: int
    failedTasks: int
    createdAt: float
    updatedAt: float
    rolloutState: str
    rolloutStateReason: str
    launchType: str
    capacityProviderStrategy: list[dict[str, Any]]
    platformVersion: str
    breakerSatisfied: bool
    """minecs: a task of this deployment was healthy, so the circuit breaker is done with it."""


class EventBody(TypedDict):
    id: str
    createdAt: float
    message: str


class ServiceBody(TypedDict, total=False):
    serviceArn: str
    serviceName: str
    clusterArn: str
    status: str
    taskDefinition: str
    desiredCount: int
    runningCount: int
    pendingCount: int
    schedulingStrategy: str
    deploymentConfiguration: dict[str, Any]
    deployments: list[DeploymentBody]
    events: list[EventBody]
    placementConstraints: list[dict[str, Any]]
    placementStrategy: list[dict[str, Any]]
    enableExecuteCommand: bool
    createdAt: float
    # minecs members
    cluster: str
    createRequest: dict[str, Any]
    """The CreateService request that made it, so a retried create is idempotent."""
    lastCompletedDeployment: str | None
    lastCompletedTaskDefinition: str | None


def stored_task(body: Mapping[str, Any]) -> TaskBody:
    """A task body read from the store, as the typed view (the store holds what minecs wrote)."""
    return cast("TaskBody", body)


def stored_service(body: Mapping[str, Any]) -> ServiceBody:
    """A service body read from the store, as the typed view."""
    return cast("ServiceBody", body)
