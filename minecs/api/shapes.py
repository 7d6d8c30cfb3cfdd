"""Stored objects as the native ``/v1`` API shows them: ECS shapes without minecs's bookkeeping members.

The store keeps a few members for itself (a task's report ``seq``, its reservation and placement
inputs, the NFS mounts of its EFS volumes, an instance's ``lastSeen``, a service's last COMPLETED
deployment); the native API hides them here and alone shows ``placementReason`` (why a task waits
for capacity). The native API alone uses these: the ECS front end shapes its answers once, by
ECS's own model (``minecs.api.ecs.shaping``, an allow-list), so a bookkeeping member never reaches
an ECS client whether or not it is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TASK_BOOKKEEPING = ("seq", "reserved", "placement", "instanceId", "hasHealthCheck", "nfsVolumes")
SERVICE_BOOKKEEPING = ("cluster", "lastCompletedTaskDefinition", "lastCompletedDeployment", "createRequest")


def task_shape(
    task: Mapping[str, Any], *, tags: bool = True, placement_reason: bool = False
) -> dict[str, Any]:
    hidden = (
        TASK_BOOKKEEPING + (() if placement_reason else ("placementReason",)) + (() if tags else ("tags",))
    )
    return {k: v for k, v in task.items() if k not in hidden and v is not None}


def service_shape(service: Mapping[str, Any], *, tags: bool = True) -> dict[str, Any]:
    shown = {k: v for k, v in service.items() if k not in SERVICE_BOOKKEEPING}
    shown["deployments"] = [
        {k: v for k, v in d.items() if k != "breakerSatisfied"} for d in service.get("deployments", [])
    ]
    if not tags:
        shown.pop("tags", None)
    return shown


def instance_shape(instance: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in instance.items() if k != "lastSeen"}
