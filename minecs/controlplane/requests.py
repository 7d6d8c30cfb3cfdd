"""Run requests: what RunTask, StartTask and a service's launches ask for, and the task it makes.

A ``RunRequest`` is the decoded request; ``new_task`` turns one request into one task's stored
body (PROVISIONING, unplaced). The body keeps the task's need and placement rules in their stored
form, so the reconcile loop can place a waiting task after a restart; the request that made the
task places it with the decoded values it already holds (``TaskPlan``), without reading them back.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from minecs.controlplane.taskdefs import Identity
from minecs.model.codec import encode
from minecs.model.placement import (
    PlacementConstraint,
    PlacementConstraintType,
    PlacementStrategy,
    PlacementStrategyType,
    placement_constraint,
)
from minecs.model.stored import ContainerBody, PlacementBody, TaskBody, stored_task
from minecs.model.task import ContainerOverride
from minecs.model.taskdef import Tag, TaskDefinition
from minecs.model.wire import ecs_override_to_json
from minecs.scheduling.launch import Launch, LaunchRequest
from minecs.scheduling.needs import encode_need, need_of
from minecs.scheduling.placement import Need

MAX_COUNT = 10
"""RunTask's and StartTask's limit per call (checked where the API reads the request: a service's
scheduler launches as many as its deployment needs)."""


@dataclass(frozen=True)
class RunRequest:
    task_definition: str
    cluster: str | None = None
    count: int = 1
    overrides: tuple[ContainerOverride, ...] = ()
    started_by: str | None = None
    group: str | None = None
    strategies: tuple[PlacementStrategy, ...] = ()
    constraints: tuple[PlacementConstraint, ...] = ()
    tags: tuple[Tag, ...] = ()
    instance_ids: tuple[str, ...] = ()
    """StartTask: place on exactly these instances, one task each."""
    task_cpu: int | None = None
    """RunTask ``overrides.cpu`` (CPU units), replacing the task definition's."""
    task_memory: int | None = None
    """RunTask ``overrides.memory`` (MiB), replacing the task definition's."""
    enable_execute_command: bool = False
    """Whether ``minecs exec`` may run commands in the task's containers (ECS's member, default off)."""
    launch: LaunchRequest = field(default_factory=LaunchRequest)
    """``launchType``, ``capacityProviderStrategy``, ``platformVersion``, ``networkConfiguration``."""
    provider_counts: tuple[tuple[str, int], ...] = ()
    """How many tasks each capacity provider already has (a service's), for ``base`` and ``weight``."""


@dataclass(frozen=True)
class TaskPlan:
    """What placing a new task needs, decoded once: its reservation and its placement rules."""

    need: Need
    strategies: list[PlacementStrategy]
    constraints: list[PlacementConstraint]
    """RunTask's or the service's, then the task definition's: ECS applies both."""


def plan_of(request: RunRequest, td: TaskDefinition) -> TaskPlan:
    """``td`` is the definition with RunTask's task size applied."""
    group = request.group or f"family:{td.family}"
    return TaskPlan(
        need=need_of(td, group, request.overrides),
        strategies=[x for x in request.strategies if x.type is not None],
        constraints=[x for x in (*request.constraints, *td.placement_constraints) if x.type is not None],
    )


def new_task(
    identity: Identity,
    cluster: str,
    td: TaskDefinition,
    request: RunRequest,
    *,
    plan: TaskPlan,
    launch_members: Mapping[str, Any],
    now: float,
) -> TaskBody:
    """The stored body of one new task of ``request`` (``td`` with its task size applied)."""
    task_id = secrets.token_hex(16)
    prefix = f"arn:aws:ecs:{identity.region}:{identity.account}"
    task_arn = f"{prefix}:task/{cluster}/{task_id}"
    body: TaskBody = {
        "taskArn": task_arn,
        "clusterArn": f"{prefix}:cluster/{cluster}",
        "taskDefinitionArn": td.task_definition_arn,
        "lastStatus": "PROVISIONING",
        "desiredStatus": "RUNNING",
        "group": plan.need.group,
        "startedBy": request.started_by,
        "enableExecuteCommand": request.enable_execute_command,
        "cpu": td.cpu,
        "memory": td.memory,
        "overrides": _task_overrides(request),
        "tags": [encode(t) for t in request.tags],
        "createdAt": now,
        "containers": [
            container_body(task_arn, {"name": c.name, "image": c.image, "lastStatus": "PENDING"})
            for c in td.container_definitions
        ],
        "healthStatus": "UNKNOWN",
        "seq": 0,
        "instanceId": "",
        "reserved": encode_need(plan.need),
        # ECS judges a task by its health checks when an essential container has one.
        "hasHealthCheck": any(c.essential and c.health_check for c in td.container_definitions),
        "placement": encode_placement(plan.strategies, plan.constraints),
    }
    # The launch type's members (launchType, capacityProviderName, platformVersion, attachments).
    return stored_task({**body, **launch_members})


def launch_members(launch: Launch, provider: str | None) -> dict[str, Any]:
    """The launch type's members of a new task (its attachment gets a fresh id)."""
    return launch.task_members(provider, str(uuid.uuid4()))


def container_body(task_arn: str, c: Mapping[str, Any]) -> ContainerBody:
    """A task's container as ECS describes it, from its name, image and what the agent reported."""
    out = {
        "containerArn": f"{task_arn.replace(':task/', ':container/')}/{c['name']}",
        "taskArn": task_arn,
        "name": c["name"],
        "image": c.get("image"),
        "runtimeId": c.get("runtimeId"),
        "lastStatus": c["lastStatus"],
        "exitCode": c.get("exitCode"),
        "reason": c.get("reason"),
        "networkBindings": c.get("networkBindings", []),
        "healthStatus": c.get("healthStatus", "UNKNOWN"),
    }
    return cast("ContainerBody", {k: v for k, v in out.items() if v is not None})


def _task_overrides(request: RunRequest) -> dict[str, Any]:
    """ECS's TaskOverride shape; cpu and memory are strings there, as in task definitions."""
    out: dict[str, Any] = {"containerOverrides": [ecs_override_to_json(o) for o in request.overrides]}
    if request.task_cpu is not None:
        out["cpu"] = str(request.task_cpu)
    if request.task_memory is not None:
        out["memory"] = str(request.task_memory)
    return out


def encode_placement(
    strategies: list[PlacementStrategy], constraints: list[PlacementConstraint]
) -> PlacementBody:
    """The stored form of placement rules (every rule has its type: ``plan_of`` keeps only those)."""
    return {
        "strategies": [
            {"type": x.type.value, "field": x.field or ""} for x in strategies if x.type is not None
        ],
        "constraints": [
            {"type": x.type.value, "expression": x.expression or ""}
            for x in constraints
            if x.type is not None
        ],
    }


def decode_placement(data: Mapping[str, Any]) -> tuple[list[PlacementStrategy], list[PlacementConstraint]]:
    strategies = [
        PlacementStrategy(PlacementStrategyType(x["type"]), x.get("field", "")) for x in data["strategies"]
    ]
    constraints = [
        placement_constraint(PlacementConstraintType(x["type"]), x.get("expression", ""))
        for x in data["constraints"]
    ]
    return strategies, constraints
