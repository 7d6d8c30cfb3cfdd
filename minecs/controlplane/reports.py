"""Agent reports: what an agent says of a task placed on it becomes the stored truth.

Reports carry the agent's per-task ``seq``; one at or below the stored one is ignored, so replays
after a reconnect change nothing. An agent may report only for tasks placed on itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minecs.controlplane.requests import container_body
from minecs.errors import AccessDeniedError
from minecs.model.stored import TASK_KIND as KIND
from minecs.model.wire import time_from_json
from minecs.scheduling.launch import with_attachment_status
from minecs.store import Store, retry_update

_TIMES = ("pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "executionStoppedAt", "stoppedAt")


async def apply_report(store: Store, instance_id: str, snapshot: Mapping[str, Any]) -> int:
    """Store an agent's task snapshot; returns the seq now stored (reports at or below it change nothing)."""
    task_id = str(snapshot["taskArn"]).rsplit("/", 1)[-1]
    stored = await store.get(KIND, task_id)
    if stored is None or stored.parent != instance_id:
        raise AccessDeniedError(f"Task {snapshot['taskArn']} is not assigned to instance {instance_id}.")

    def merge(body: Mapping[str, Any]) -> dict[str, Any]:
        if snapshot["seq"] <= body["seq"]:
            return dict(body)
        return with_attachment_status({**body, **task_fields(snapshot)})

    updated = await retry_update(store, KIND, task_id, merge)
    return int(updated.body["seq"])


def task_fields(s: Mapping[str, Any]) -> dict[str, Any]:
    """The ECS Task members an agent snapshot (wire form) determines."""
    fields: dict[str, Any] = {
        "seq": s["seq"],
        "lastStatus": s["lastStatus"],
        "desiredStatus": s["desiredStatus"],
        "healthStatus": s["healthStatus"],
        "stopCode": s.get("stopCode"),
        "stoppedReason": s.get("stoppedReason"),
        "containers": [container_body(s["taskArn"], c) for c in s["containers"]],
    }
    for member in _TIMES:
        fields[member] = _epoch(s.get(member))
    return {k: v for k, v in fields.items() if v is not None or k in ("stopCode", "stoppedReason")}


def _epoch(value: Any) -> float | None:
    parsed = time_from_json(value)
    return parsed.timestamp() if parsed else None
