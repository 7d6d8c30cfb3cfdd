"""The registered task definition: what registration adds, and its exact ECS JSON shape.

``register`` turns a validated spec into a ``TaskDefinition`` with ARN, revision, ACTIVE status,
``registeredAt``, ``compatibilities`` and ``requiresAttributes``; ``deregister`` makes it INACTIVE.
``to_json`` / ``from_json`` give the ``describe-task-definition`` shape (timestamps as epoch
seconds, as the ECS JSON 1.1 protocol sends them) and read it back without loss.

Choices, written down because ECS does not document them fully:

* ``compatibilities`` is always EC2 and EXTERNAL (a minecs host behaves as both), plus FARGATE when
  the definition would also register for Fargate (awsvpc and a valid Fargate cpu/memory pair).
* ``requiresAttributes`` is the subset of ECS's capability attributes that a minecs agent can
  advertise and placement can match: container ordering, health checks, task ENI (awsvpc), logging
  drivers, privileged containers, secrets, restart policies, task IAM role, docker volumes.
* ``tags`` are not part of this shape: ECS returns them beside ``taskDefinition``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from minecs.model.codec import Decoder, encode
from minecs.model.taskdef import (
    Attribute,
    Compatibility,
    NetworkMode,
    TaskDefinition,
    TaskDefinitionSpec,
    TaskDefinitionStatus,
)
from minecs.model.units import fargate_accepts, parse_cpu, parse_memory

_TIMESTAMPS = {
    "registeredAt": "registered_at",
    "deregisteredAt": "deregistered_at",
    "deleteRequestedAt": "delete_requested_at",
}


def task_definition_arn(region: str, account: str, family: str, revision: int) -> str:
    return f"arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}"


def register(
    spec: TaskDefinitionSpec,
    *,
    arn: str,
    revision: int,
    registered_at: datetime,
    registered_by: str | None = None,
) -> TaskDefinition:
    """The registered form of a validated, normalised spec."""
    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(TaskDefinitionSpec)}
    fields["tags"] = ()
    return TaskDefinition(
        **fields,
        task_definition_arn=arn,
        revision=revision,
        status=TaskDefinitionStatus.ACTIVE,
        requires_attributes=tuple(Attribute(name=n) for n in required_attributes(spec)),
        compatibilities=compatibilities(spec),
        registered_at=registered_at,
        registered_by=registered_by,
    )


def deregister(td: TaskDefinition, at: datetime) -> TaskDefinition:
    return dataclasses.replace(td, status=TaskDefinitionStatus.INACTIVE, deregistered_at=at)


def spec_of(td: TaskDefinition, tags: tuple[Any, ...] = ()) -> TaskDefinitionSpec:
    """The spec a registered definition was made from (for ``apply`` comparisons)."""
    fields = {f.name: getattr(td, f.name) for f in dataclasses.fields(TaskDefinitionSpec)}
    return TaskDefinitionSpec(**{**fields, "tags": tags})


def compatibilities(spec: TaskDefinitionSpec) -> tuple[Compatibility, ...]:
    found = [Compatibility.EC2, Compatibility.EXTERNAL]
    cpu = parse_cpu(spec.cpu) if spec.cpu else None
    memory = parse_memory(spec.memory) if spec.memory else None
    if spec.network_mode is NetworkMode.AWSVPC and cpu and memory and fargate_accepts(cpu, memory):
        found.append(Compatibility.FARGATE)
    return tuple(found)


def required_attributes(spec: TaskDefinitionSpec) -> list[str]:
    names: set[str] = set()
    containers = spec.container_definitions
    if any(c.depends_on or c.start_timeout is not None or c.stop_timeout is not None for c in containers):
        names.add("ecs.capability.container-ordering")
    if any(c.health_check for c in containers):
        names.add("ecs.capability.container-health-check")
    if spec.network_mode is NetworkMode.AWSVPC:
        names.add("ecs.capability.task-eni")
    for c in containers:
        if c.log_configuration is not None:
            names.add(f"com.amazonaws.ecs.capability.logging-driver.{c.log_configuration.log_driver.value}")
        if c.privileged:
            names.add("com.amazonaws.ecs.capability.privileged-container")
        if c.secrets:
            names.add("ecs.capability.secrets.ssm.environment-variables")
        if c.restart_policy is not None and c.restart_policy.enabled:
            names.add("ecs.capability.container-restart-policy")
    if spec.task_role_arn:
        names.add("com.amazonaws.ecs.capability.task-iam-role")
    if any(v.docker_volume_configuration for v in spec.volumes):
        names.add("ecs.capability.docker-plugin.local")
    return sorted(names)


def to_json(td: TaskDefinition) -> dict[str, Any]:
    """The ``taskDefinition`` member of DescribeTaskDefinition, as ECS sends it."""
    out: dict[str, Any] = encode(td)
    out.pop("tags", None)
    for member, attr in _TIMESTAMPS.items():
        value = getattr(td, attr)
        if value is not None:
            out[member] = value.timestamp()
    return out


def from_json(data: dict[str, Any]) -> tuple[TaskDefinition, Decoder]:
    """Read ``to_json`` output back; the decoder's ``problems`` say whether it was well formed."""
    body = {k: v for k, v in data.items() if k not in _TIMESTAMPS}
    decoder = Decoder()
    td = decoder.decode(TaskDefinition, body)
    stamps: dict[str, Any] = {
        attr: datetime.fromtimestamp(float(data[member]), UTC)
        for member, attr in _TIMESTAMPS.items()
        if isinstance(data.get(member), int | float)
    }
    return dataclasses.replace(td, **stamps), decoder
