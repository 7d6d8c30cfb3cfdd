"""What a service shows after a reconcile pass: counts, deployments, rolloutState and ECS's events.

Pure: from the service as stored, its tasks split by deployment (``Split``) and the events the pass
produced, to the service body to store. Counts are as ECS shows them (a task still stopping is
RUNNING until its agent says otherwise); a deployment stays listed (ACTIVE) until its last task has
stopped; the PRIMARY deployment is COMPLETED, and ``has reached a steady state.`` is said once, when
exactly the desired tasks of it are healthy and nothing is pending or still stopping. The service
remembers its last COMPLETED deployment (``lastCompletedDeployment``, a bookkeeping member): that is
where the circuit breaker rolls back to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from minecs.model.stored import DeploymentBody
from minecs.model.task import PENDING_STATUSES
from minecs.scheduling.deployments import Fleet, steady

MAX_EVENTS = 100


@dataclass(frozen=True)
class Split:
    new: list[Mapping[str, Any]]
    """Live tasks of the PRIMARY deployment (on instances that are not draining)."""
    old: list[Mapping[str, Any]]
    """Every other live task."""
    stopping: list[Mapping[str, Any]]
    """Tasks told to stop that have not stopped yet."""


def record(
    body: Mapping[str, Any],
    tasks: Split,
    events: list[str],
    *,
    healthy: Callable[[Mapping[str, Any]], bool],
    now: float,
) -> dict[str, Any]:
    new, old, stopping = tasks.new, tasks.old, tasks.stopping
    everything = new + old + stopping
    running = sum(t["lastStatus"] == "RUNNING" for t in everything)
    pending = sum(t["lastStatus"] in PENDING_STATUSES for t in everything)
    waiting = sum(t["lastStatus"] != "RUNNING" for t in new + old) + len(stopping)
    old_ids = {t.get("startedBy") for t in old + stopping}
    deployments = [body["deployments"][0], *(d for d in body["deployments"][1:] if d["id"] in old_ids)]
    failed = [
        d for d in body["deployments"][1:] if d.get("rolloutState") == "FAILED" and d["id"] not in old_ids
    ]
    primary = {
        **deployments[0],
        "runningCount": sum(t["lastStatus"] == "RUNNING" for t in new),
        "pendingCount": sum(t["lastStatus"] != "RUNNING" for t in new),
    }
    fleet = Fleet(body["desiredCount"], len(new), sum(map(healthy, new)), len(old), 0)
    completed_td = body.get("lastCompletedTaskDefinition")
    completed_id = body.get("lastCompletedDeployment")
    if steady(fleet, pending=waiting, deployments=len(deployments)):
        primary, events = _completed(body, primary, events, now)
        completed_td, completed_id = primary["taskDefinition"], primary["id"]
        failed = []  # a completed deployment ends the story of the failed one
    changed = {
        **body,
        "runningCount": running,
        "pendingCount": pending,
        "deployments": [primary, *deployments[1:], *failed],
        "lastCompletedTaskDefinition": completed_td,
        "lastCompletedDeployment": completed_id,
    }
    return with_events(changed, events, now)


def _completed(
    body: Mapping[str, Any], primary: dict[str, Any], events: list[str], now: float
) -> tuple[dict[str, Any], list[str]]:
    """A steady service: its PRIMARY deployment COMPLETED, with ECS's events (each said once)."""
    name = body["serviceName"]
    if primary["rolloutState"] != "COMPLETED":
        events = [*events, f"(service {name}) (deployment {primary['id']}) deployment completed."]
        primary = {
            **primary,
            "rolloutState": "COMPLETED",
            "rolloutStateReason": "ECS deployment completed.",
            "updatedAt": now,
        }
    last = body["events"][0]["message"] if body["events"] else ""
    if not last.endswith("has reached a steady state."):
        events = [*events, f"(service {name}) has reached a steady state."]
    return primary, events


def deployment(deployment_id: str, task_definition: str, desired: int, now: float) -> DeploymentBody:
    """A deployment as ECS shows it when it begins (or, rolled back to, begins again): IN_PROGRESS."""
    return {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
    }


def with_events(body: Mapping[str, Any], events: list[str], now: float) -> dict[str, Any]:
    """The newest events first, at most ``MAX_EVENTS``; a message equal to the latest is not repeated."""
    latest = body["events"][0]["message"] if body["events"] else None
    events = [m for m in events if m != latest]
    stamped = [{"id": f"{now:.6f}-{i}", "createdAt": now, "message": m} for i, m in enumerate(events)]
    return {**body, "events": (list(reversed(stamped)) + list(body["events"]))[:MAX_EVENTS]}


def task_id(task: Mapping[str, Any]) -> str:
    return str(task["taskArn"]).rsplit("/", 1)[-1]


def started_event(service: str, tasks: list[Mapping[str, Any]]) -> str:
    ids = ", ".join(f"(task {task_id(t)})" for t in tasks)
    return f"(service {service}) has started {len(tasks)} tasks: {ids}."


def stopped_event(service: str, tasks: list[Mapping[str, Any]]) -> str:
    ids = ", ".join(f"(task {task_id(t)})" for t in tasks)
    return f"(service {service}) has stopped {len(tasks)} running tasks: {ids}."
