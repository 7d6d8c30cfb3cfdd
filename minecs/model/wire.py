"""JSON forms of task assignments and task snapshots, for the agent's state file, static task files
and (later) the controller protocol. camelCase like ECS; timestamps as ISO 8601 strings with zone.

Round trips are exact: ``assignment_from_json(assignment_to_json(a)) == a`` and the same for
snapshots, which the tests check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from minecs.errors import ValidationError
from minecs.model.codec import camel
from minecs.model.efs import nfs_from_json, nfs_to_json
from minecs.model.registered import from_json as taskdef_from_json
from minecs.model.registered import to_json as taskdef_to_json
from minecs.model.task import (
    TASK_TIMES,
    ContainerOverride,
    ContainerSnapshot,
    DesiredStatus,
    HealthStatus,
    KnownStatus,
    NetworkBinding,
    StopCode,
    TaskAssignment,
    TaskSnapshot,
    TaskStatus,
)
from minecs.model.taskdef import TaskDefinition


def taskdef_from_json_checked(data: Any) -> TaskDefinition:
    definition, decoder = taskdef_from_json(data)
    if decoder.problems:
        raise ValidationError(decoder.problems)
    return definition


def time_to_json(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def time_from_json(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def assignment_to_json(a: TaskAssignment, *, definition_ref: str | None = None) -> dict[str, Any]:
    """The assignment with its task definition inline, or, given ``definition_ref``, naming it:
    a poll answer sends each task definition once, in its ``taskDefinitions`` map."""
    definition: dict[str, Any] = (
        {"taskDefinition": taskdef_to_json(a.definition)}
        if definition_ref is None
        else {"taskDefinitionRef": definition_ref}
    )
    return {
        "taskArn": a.task_arn,
        "cluster": a.cluster,
        **definition,
        "desiredStatus": a.desired_status.value,
        "overrides": [
            {
                "name": o.name,
                "command": list(o.command) if o.command is not None else None,
                "environment": dict(o.environment),
                "cpu": o.cpu,
                "memory": o.memory,
                "memoryReservation": o.memory_reservation,
            }
            for o in a.overrides
        ],
        "stopCode": a.stop_code.value if a.stop_code else None,
        "stoppedReason": a.stopped_reason,
        "startedBy": a.started_by,
        "group": a.group,
        **({"nfsVolumes": {k: nfs_to_json(m) for k, m in a.nfs_volumes.items()}} if a.nfs_volumes else {}),
        "launchType": a.launch_type,
    }


def assignment_from_json(
    data: dict[str, Any], definitions: Mapping[str, TaskDefinition] | None = None
) -> TaskAssignment:
    """``definitions`` resolves a ``taskDefinitionRef``; an inline ``taskDefinition`` is decoded."""
    if "taskDefinitionRef" in data:
        definition = (definitions or {})[data["taskDefinitionRef"]]
    else:
        definition = taskdef_from_json_checked(data["taskDefinition"])
    return TaskAssignment(
        task_arn=data["taskArn"],
        cluster=data["cluster"],
        definition=definition,
        desired_status=DesiredStatus(data.get("desiredStatus", "RUNNING")),
        overrides=tuple(
            ContainerOverride(
                name=o["name"],
                command=tuple(o["command"]) if o.get("command") is not None else None,
                environment=dict(o.get("environment") or {}),
                cpu=o.get("cpu"),
                memory=o.get("memory"),
                memory_reservation=o.get("memoryReservation"),
            )
            for o in data.get("overrides") or ()
        ),
        stop_code=StopCode(data["stopCode"]) if data.get("stopCode") else None,
        stopped_reason=data.get("stoppedReason"),
        started_by=data.get("startedBy"),
        group=data.get("group"),
        nfs_volumes={k: nfs_from_json(m) for k, m in (data.get("nfsVolumes") or {}).items()},
        launch_type=data.get("launchType") or "EXTERNAL",  # a controller before launch types sent none
    )


def ecs_override_to_json(o: ContainerOverride) -> dict[str, Any]:
    """A ``ContainerOverride`` in ECS's own shape (``environment`` as name/value pairs)."""
    out: dict[str, Any] = {"name": o.name}
    if o.command is not None:
        out["command"] = list(o.command)
    if o.environment:
        out["environment"] = [{"name": k, "value": v} for k, v in o.environment.items()]
    for member, value in (("cpu", o.cpu), ("memory", o.memory), ("memoryReservation", o.memory_reservation)):
        if value is not None:
            out[member] = value
    return out


def ecs_override_from_json(o: dict[str, Any]) -> ContainerOverride:
    """The inverse of ``ecs_override_to_json``; a malformed one raises KeyError or TypeError."""
    return ContainerOverride(
        name=o["name"],
        command=tuple(o["command"]) if o.get("command") is not None else None,
        environment={e["name"]: e["value"] for e in o.get("environment") or []},
        cpu=o.get("cpu"),
        memory=o.get("memory"),
        memory_reservation=o.get("memoryReservation"),
    )


def binding_to_json(b: NetworkBinding) -> dict[str, Any]:
    return {
        "containerPort": b.container_port,
        "hostPort": b.host_port,
        "protocol": b.protocol,
        "bindIP": b.bind_ip,
    }


def binding_from_json(d: dict[str, Any]) -> NetworkBinding:
    return NetworkBinding(
        d["containerPort"], d["hostPort"], d.get("protocol", "tcp"), d.get("bindIP", "0.0.0.0")
    )


_CONTAINER_TIMES = ("created_at", "started_at", "finished_at")


def container_to_json(c: ContainerSnapshot) -> dict[str, Any]:
    return {
        "name": c.name,
        "knownStatus": c.known_status.name,
        "lastStatus": c.known_status.reported,
        "desiredStatus": c.desired_status.value,
        "essential": c.essential,
        "runtimeId": c.runtime_id,
        "dockerName": c.docker_name,
        "image": c.image,
        "exitCode": c.exit_code,
        "reason": c.reason,
        "healthStatus": c.health_status.value,
        "networkBindings": [binding_to_json(b) for b in c.network_bindings],
        "restartCount": c.restart_count,
        **{camel(t): time_to_json(getattr(c, t)) for t in _CONTAINER_TIMES},
    }


def container_from_json(d: dict[str, Any]) -> ContainerSnapshot:
    return ContainerSnapshot(
        name=d["name"],
        known_status=KnownStatus[d["knownStatus"]],
        desired_status=DesiredStatus(d["desiredStatus"]),
        essential=d["essential"],
        runtime_id=d.get("runtimeId"),
        docker_name=d.get("dockerName"),
        image=d.get("image"),
        exit_code=d.get("exitCode"),
        reason=d.get("reason"),
        health_status=HealthStatus(d.get("healthStatus", "UNKNOWN")),
        network_bindings=tuple(binding_from_json(b) for b in d.get("networkBindings") or ()),
        restart_count=d.get("restartCount", 0),
        **{t: time_from_json(d.get(camel(t))) for t in _CONTAINER_TIMES},
    )


def snapshot_to_json(s: TaskSnapshot) -> dict[str, Any]:
    return {
        "taskArn": s.task_arn,
        "seq": s.seq,
        "lastStatus": s.last_status.value,
        "desiredStatus": s.desired_status.value,
        "healthStatus": s.health_status.value,
        "stopCode": s.stop_code.value if s.stop_code else None,
        "stoppedReason": s.stopped_reason,
        "containers": [container_to_json(c) for c in s.containers],
        **{camel(t): time_to_json(getattr(s, t)) for t in TASK_TIMES},
    }


def snapshot_from_json(d: dict[str, Any]) -> TaskSnapshot:
    return TaskSnapshot(
        task_arn=d["taskArn"],
        seq=d["seq"],
        last_status=TaskStatus(d["lastStatus"]),
        desired_status=DesiredStatus(d["desiredStatus"]),
        health_status=HealthStatus(d.get("healthStatus", "UNKNOWN")),
        stop_code=StopCode(d["stopCode"]) if d.get("stopCode") else None,
        stopped_reason=d.get("stoppedReason"),
        containers=tuple(container_from_json(c) for c in d["containers"]),
        **{t: time_from_json(d.get(camel(t))) for t in TASK_TIMES},
    )
