"""Placing tasks on instances: the store's side of ``scheduling.placement``.

A task waits unplaced (``parent`` "") until an instance has room. ``place`` reads the cluster's
instances with the tasks that still hold resources there, asks the pure ``place`` function for an
instance, and writes the choice with compare-and-swap: RunTask and the reconcile loop may both try
at once, and the loser looks again and finds the task placed (or placeable) on the fresh read.

A task that finds no capacity stays PENDING with the reason in ``placementReason`` (a minecs member
the ECS SDKs ignore), and ``place_pending`` places it when capacity appears; this follows the issue
(not a failure) rather than RunTask's ``RESOURCE:*`` failures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from minecs.controlplane.assignments import AssignmentVersions
from minecs.controlplane.instances import Instances, resource, resources
from minecs.controlplane.requests import TaskPlan, decode_placement
from minecs.errors import InvalidParameterError, VersionConflictError
from minecs.model.stored import TASK_KIND as KIND
from minecs.model.task import PENDING_STATUSES
from minecs.scheduling.needs import decode_need
from minecs.scheduling.placement import Candidate, Placed, place
from minecs.store import Store, Stored, retry_update

PLACE_ATTEMPTS = 5
OnFailure = Callable[[str, str, Exception], str]
"""Told (kind, key, error) of an object that could not be handled; answers the message to record."""


class Placer:
    def __init__(self, store: Store, instances: Instances, versions: AssignmentVersions) -> None:
        self.store = store
        self.instances = instances
        self.versions = versions

    async def place(
        self, task_id: str, pinned: str | None = None, plan: TaskPlan | None = None
    ) -> Mapping[str, Any]:
        """Place a waiting task, on ``pinned`` alone if given (StartTask). ``plan`` is the task's
        need and rules when the caller holds them decoded; else they are read from the body."""
        for _ in range(PLACE_ATTEMPTS):
            stored = await self.store.get(KIND, task_id)
            if stored is None:
                raise InvalidParameterError("The referenced task was not found.")
            if stored.body["instanceId"] or stored.body["desiredStatus"] != "RUNNING":
                return stored.body
            try:
                return await self._place_once(stored, pinned, plan or stored_plan(stored.body))
            except VersionConflictError:
                continue
        raise VersionConflictError(
            f"task {task_id}: gave up placing after {PLACE_ATTEMPTS} conflicting updates"
        )

    async def _place_once(self, stored: Stored, pinned: str | None, plan: TaskPlan) -> Mapping[str, Any]:
        candidates = [
            c for c in await self.candidates(stored.cluster) if pinned is None or c.instance_id == pinned
        ]
        result = place(plan.need, candidates, strategies=plan.strategies, constraints=plan.constraints)
        if not isinstance(result, Placed):
            body = {**stored.body, "lastStatus": "PENDING", "placementReason": result.reason}
            return (await self.store.update(KIND, stored.key, body, expected_version=stored.version)).body
        instance = await self.instances.get(result.instance_id)
        body = {
            **stored.body,
            "lastStatus": "PENDING",
            "instanceId": result.instance_id,
            "containerInstanceArn": instance["containerInstanceArn"],
            "placementReason": None,
        }
        placed = await self.store.update(
            KIND, stored.key, body, expected_version=stored.version, parent=result.instance_id
        )
        await self.versions.bump(result.instance_id)
        return placed.body

    async def _occupied(self, cluster: str) -> list[tuple[dict[str, Any], list[Mapping[str, Any]]]]:
        """Each instance of the cluster with the tasks on it that still hold resources (not STOPPED)."""
        return [
            (
                instance,
                [
                    t.body
                    for t in await self.store.find(KIND, parent=instance["instanceId"])
                    if t.body["lastStatus"] != "STOPPED"
                ],
            )
            for instance in await self.instances.in_cluster(cluster)
        ]

    async def candidates(self, cluster: str) -> list[Candidate]:
        return [_candidate(instance, tasks) for instance, tasks in await self._occupied(cluster)]

    async def described_instances(self, cluster: str) -> list[dict[str, Any]]:
        """The cluster's instances as ECS describes them: remaining resources and task counts included."""
        shown = []
        for instance, here in await self._occupied(cluster):
            room = _candidate(instance, here)
            registered_ports = next(
                r["stringSetValue"] for r in instance["registeredResources"] if r["name"] == "PORTS"
            )
            used_ports = sorted({str(port) for port, _ in room.ports_used} | set(registered_ports))
            shown.append(
                {
                    **instance,
                    "remainingResources": resources(
                        room.cpu_left, room.memory_left, [int(p) for p in used_ports]
                    ),
                    "runningTasksCount": sum(t["lastStatus"] == "RUNNING" for t in here),
                    "pendingTasksCount": sum(t["lastStatus"] in PENDING_STATUSES for t in here),
                }
            )
        return shown

    async def place_pending(self, cluster: str, on_failure: OnFailure | None = None) -> int:
        """Try again to place the cluster's unplaced PENDING tasks; returns how many found a home.

        With ``on_failure``, a task that cannot be handled is reported to it, its placement reason
        says why, and the others are still placed (a poisoned task must not block the cluster)."""
        placed = 0
        for stored in await self.store.find(KIND, cluster=cluster, parent=""):
            if stored.body["desiredStatus"] != "RUNNING":
                continue
            try:
                result = await self.place(stored.key)
            except VersionConflictError:
                continue  # busy with other writers; the next pass looks again
            except Exception as exc:
                if on_failure is None:
                    raise
                await self._unplaceable(stored, on_failure("task", stored.key, exc))
                continue
            placed += bool(result.get("instanceId"))
        return placed

    async def _unplaceable(self, stored: Stored, message: str) -> None:
        """The task's placement reason says why it was not placed (written once, not every pass)."""
        reason = f"minecs could not place this task: {message}"
        if stored.body.get("placementReason") == reason:
            return
        with contextlib.suppress(Exception):  # best effort: the body may be what is broken
            await retry_update(self.store, KIND, stored.key, lambda body: {**body, "placementReason": reason})


def stored_plan(body: Mapping[str, Any]) -> TaskPlan:
    """A waiting task's need and rules, read back from its stored body (after a restart)."""
    strategies, constraints = decode_placement(body["placement"])
    return TaskPlan(decode_need(body["reserved"], body["group"]), strategies, constraints)


def _candidate(instance: Mapping[str, Any], tasks: list[Mapping[str, Any]]) -> Candidate:
    """What is left on an instance for placement, given the tasks that hold resources there."""
    needs = [decode_need(t["reserved"], t["group"]) for t in tasks]
    groups: dict[str, int] = {}
    for t in tasks:
        groups[t["group"]] = groups.get(t["group"], 0) + 1
    return Candidate(
        instance_id=instance["instanceId"],
        cpu_left=resource(instance, "CPU") - sum(n.cpu for n in needs),
        memory_left=resource(instance, "MEMORY") - sum(n.memory for n in needs),
        ports_used=frozenset(p for n in needs for p in n.ports),
        attributes={a["name"]: a.get("value", "") for a in instance["attributes"]},
        groups=groups,
        usable=instance["status"] == "ACTIVE" and instance["agentConnected"],
    )
