"""Tasks in the control plane: run/start (with placement), stop, describe, list, assignments, reports.

A task is stored once, under its id, in its cluster; its ``parent`` is the instance it is placed on
("" while unplaced). What the agent reports is the truth about a placed task: reports carry the
agent's per-task ``seq`` and one at or below the stored one is ignored, so replays after a reconnect
change nothing. An agent may report only for tasks placed on itself.

Choices: a task that finds no capacity stays PENDING, unplaced, with the placement reason in
``placementReason`` (a minecs member the ECS SDKs ignore), and ``place_pending`` places it when
capacity appears; this follows the issue (not a failure) rather than RunTask's ``RESOURCE:*`` failures.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.controlplane.assignments import AssignmentVersions
from minecs.controlplane.clusters import Clusters, Failure
from minecs.controlplane.efs import nfs_volumes
from minecs.controlplane.instances import Instances, resource, resources
from minecs.controlplane.taskdefs import Identity, Registered, TaskDefinitions
from minecs.errors import AccessDeniedError, ClientError, InvalidParameterError
from minecs.model.codec import encode
from minecs.model.efs import nfs_from_json, nfs_to_json
from minecs.model.placement import (
    PlacementConstraint,
    PlacementConstraintType,
    PlacementStrategy,
    PlacementStrategyType,
    placement_constraint,
)
from minecs.model.registered import to_json as taskdef_to_json
from minecs.model.task import (
    PENDING_STATUSES,
    USER_STOP_REASON,
    ContainerOverride,
    DesiredStatus,
    StopCode,
    TaskAssignment,
)
from minecs.model.taskdef import Tag, TaskDefinition, TaskDefinitionStatus
from minecs.model.wire import assignment_to_json, ecs_override_from_json, ecs_override_to_json, time_from_json
from minecs.scheduling.launch import (
    Launch,
    LaunchRequest,
    provider_for,
    resolve_in,
    with_attachment_status,
)
from minecs.scheduling.needs import decode_need, encode_need, need_of, with_task_size
from minecs.scheduling.placement import Candidate, Placed, place
from minecs.settings import EfsSettings
from minecs.store import Store, Stored, VersionConflictError, retry_update

KIND = "task"
MAX_COUNT = 10
"""RunTask's and StartTask's limit per call (checked where the API reads the request: a service's
scheduler launches as many as its deployment needs)."""
PLACE_ATTEMPTS = 5
OnFailure = Callable[[str, str, Exception], str]
"""Told (kind, key, error) of an object that could not be handled; answers the message to record."""
_TIMES = ("pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "executionStoppedAt", "stoppedAt")


@dataclass(frozen=True)
class Assignments:
    """An instance's desired set, as the agent protocol sends it (docs/protocol.md)."""

    tasks: list[dict[str, Any]]
    definitions: dict[str, dict[str, Any]]
    """``taskDefinitionRef`` -> the task definition's JSON form."""

    def to_json(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "taskDefinitions": self.definitions}


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


class Tasks:
    def __init__(
        self,
        store: Store,
        identity: Identity,
        *,
        taskdefs: TaskDefinitions,
        clusters: Clusters,
        instances: Instances,
        versions: AssignmentVersions,
        retention: timedelta = timedelta(hours=1),
        efs: EfsSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.efs = efs or EfsSettings()
        self.identity = identity
        self.taskdefs = taskdefs
        self.clusters = clusters
        self.instances = instances
        self.versions = versions
        self.retention = retention
        self.clock = clock
        self._encoded: dict[str, tuple[int, dict[str, Any]]] = {}
        """Task key -> (stored version, its assignment's JSON form): see ``assignments``."""
        self._definitions: dict[str, tuple[TaskDefinition, dict[str, Any]]] = {}
        """``taskDefinitionRef`` -> the definition with its task size, and its JSON form."""

    # ------------------------------------------------------------------ run and place
    async def run(self, request: RunRequest, *, until_unplaced: bool = False) -> list[Mapping[str, Any]]:
        """Create and place ``count`` tasks (one per instance for StartTask).

        ``until_unplaced`` (a service's launches): stop at the first task that finds no capacity, so
        a service never holds more than one task waiting for room, whatever its desiredCount."""
        count = len(request.instance_ids) or request.count
        if count < 1:
            raise InvalidParameterError(f"count must be between 1 and {MAX_COUNT}.")
        found = await self.clusters.get_active(request.cluster)
        cluster = found["clusterName"]
        registered = await self.taskdefs.describe(request.task_definition)
        if registered.definition.status is not TaskDefinitionStatus.ACTIVE:
            raise ClientError("TaskDefinition is inactive")
        mounts = {k: nfs_to_json(m) for k, m in nfs_volumes(registered.definition, self.efs).items()}
        sized = with_task_size(registered.definition, request.task_cpu, request.task_memory)
        launch = resolve_in(found, request.launch, sized)
        placed = dict(request.provider_counts)
        created = []
        for index in range(count):
            provider = provider_for(launch.strategy, placed) if launch.strategy else None
            if provider is not None:
                placed[provider] = placed.get(provider, 0) + 1
            body = self._new_task(cluster, registered, request, launch, provider)
            if mounts:  # resolved once, so the agent mounts what was checked here
                body["nfsVolumes"] = mounts
            await self.store.create(KIND, body["taskArn"].rsplit("/", 1)[-1], body, cluster=cluster)
            pinned = request.instance_ids[index] if request.instance_ids else None
            created.append(await self._place(body["taskArn"].rsplit("/", 1)[-1], pinned))
            if until_unplaced and not created[-1]["instanceId"]:
                break
        return created

    def _new_task(
        self,
        cluster: str,
        registered: Registered,
        request: RunRequest,
        launch: Launch,
        provider: str | None,
    ) -> dict[str, Any]:
        td = with_task_size(registered.definition, request.task_cpu, request.task_memory)
        task_id = secrets.token_hex(16)
        group = request.group or f"family:{td.family}"
        task_arn = f"arn:aws:ecs:{self.identity.region}:{self.identity.account}:task/{cluster}/{task_id}"
        return {
            "taskArn": task_arn,
            "clusterArn": f"arn:aws:ecs:{self.identity.region}:{self.identity.account}:cluster/{cluster}",
            "taskDefinitionArn": td.task_definition_arn,
            "lastStatus": "PROVISIONING",
            "desiredStatus": "RUNNING",
            **launch.task_members(provider, str(uuid.uuid4())),
            "group": group,
            "startedBy": request.started_by,
            "enableExecuteCommand": request.enable_execute_command,
            "cpu": td.cpu,
            "memory": td.memory,
            "overrides": _task_overrides(request),
            "tags": [encode(t) for t in request.tags],
            "createdAt": self.clock().timestamp(),
            "containers": [
                _container(task_arn, {"name": c.name, "image": c.image, "lastStatus": "PENDING"})
                for c in td.container_definitions
            ],
            "healthStatus": "UNKNOWN",
            "seq": 0,
            "instanceId": "",
            "reserved": encode_need(need_of(td, group, request.overrides)),
            # ECS judges a task by its health checks when an essential container has one.
            "hasHealthCheck": any(c.essential and c.health_check for c in td.container_definitions),
            "placement": {
                "strategies": [
                    {"type": x.type.value, "field": x.field or ""}
                    for x in request.strategies
                    if x.type is not None
                ],
                # ECS applies the task definition's constraints as well as RunTask's or the service's.
                "constraints": [
                    {"type": x.type.value, "expression": x.expression or ""}
                    for x in request.constraints
                    if x.type is not None
                ]
                + [
                    {"type": x.type.value, "expression": x.expression or ""}
                    for x in td.placement_constraints
                    if x.type is not None
                ],
            },
        }

    async def _place(self, task_id: str, pinned: str | None = None) -> Mapping[str, Any]:
        """Place a waiting task. RunTask and the reconcile loop may both try at once: the loser of the
        compare-and-swap looks again, and finds the task placed (or placeable) on the fresh read."""
        for _ in range(PLACE_ATTEMPTS):
            stored = await self.store.get(KIND, task_id)
            if stored is None:
                raise InvalidParameterError("The referenced task was not found.")
            if stored.body["instanceId"] or stored.body["desiredStatus"] != "RUNNING":
                return stored.body
            try:
                return await self._place_once(stored, pinned)
            except VersionConflictError:
                continue
        raise VersionConflictError(
            f"task {task_id}: gave up placing after {PLACE_ATTEMPTS} conflicting updates"
        )

    async def _place_once(self, stored: Stored, pinned: str | None) -> Mapping[str, Any]:
        task_id = stored.key
        need = decode_need(stored.body["reserved"], stored.body["group"])
        strategies, constraints = decode_placement(stored.body["placement"])
        candidates = [
            c for c in await self.candidates(stored.cluster) if pinned is None or c.instance_id == pinned
        ]
        result = place(need, candidates, strategies=strategies, constraints=constraints)
        if not isinstance(result, Placed):
            body = {**stored.body, "lastStatus": "PENDING", "placementReason": result.reason}
            return (await self.store.update(KIND, task_id, body, expected_version=stored.version)).body
        instance = await self.instances.get(result.instance_id)
        body = {
            **stored.body,
            "lastStatus": "PENDING",
            "instanceId": result.instance_id,
            "containerInstanceArn": instance["containerInstanceArn"],
            "placementReason": None,
        }
        placed = await self.store.update(
            KIND, task_id, body, expected_version=stored.version, parent=result.instance_id
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
                result = await self._place(stored.key)
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

    # ------------------------------------------------------------------ stop, describe, list
    async def stop(
        self,
        cluster: str | None,
        task: str,
        reason: str | None = None,
        code: StopCode = StopCode.USER_INITIATED,
    ) -> Mapping[str, Any]:
        name = (await self.clusters.get_active(cluster))["clusterName"]
        task_id = task.rsplit("/", 1)[-1]
        stored = await self.store.get(KIND, task_id)
        if stored is None or stored.cluster != name:
            raise InvalidParameterError("The referenced task was not found.")

        def stopping(body: Mapping[str, Any]) -> dict[str, Any]:
            if body["desiredStatus"] == "STOPPED":
                return dict(body)
            changed = {
                **body,
                "desiredStatus": "STOPPED",
                "stopCode": code.value,
                "stoppedReason": reason or USER_STOP_REASON,
            }
            if not body["instanceId"]:  # never placed: nothing runs, it is stopped at once
                changed.update(lastStatus="STOPPED", stoppedAt=self.clock().timestamp())
            return with_attachment_status(changed)

        updated = await retry_update(self.store, KIND, task_id, stopping)
        if updated.body["instanceId"]:
            await self.versions.bump(updated.body["instanceId"])
        return updated.body

    async def describe(
        self, cluster: str | None, tasks: Sequence[str]
    ) -> tuple[list[Mapping[str, Any]], list[Failure]]:
        name = (await self.clusters.get_active(cluster))["clusterName"]
        found, failures = [], []
        stored_tasks = await self.store.get_many(KIND, [r.rsplit("/", 1)[-1] for r in tasks])
        for reference in tasks:
            stored = stored_tasks.get(reference.rsplit("/", 1)[-1])
            if stored is None or stored.cluster != name:
                failures.append(Failure(reference))
            else:
                found.append(stored.body)
        return found, failures

    async def in_cluster(self, cluster: str) -> list[Mapping[str, Any]]:
        return [s.body for s in await self.store.find(KIND, cluster=cluster)]

    async def scan(self, cluster: str, after: str | None, limit: int) -> list[Stored]:
        """The cluster's tasks page by page, in id order (ListTasks)."""
        return await self.store.scan(KIND, cluster=cluster, after=after, limit=limit)

    async def forget_stopped(self) -> int:
        """Delete tasks STOPPED longer than ``retention`` ago (ECS shows them for about an hour)."""
        horizon = (self.clock() - self.retention).timestamp()
        forgotten = 0
        for stored in await self.store.find(KIND):
            body = stored.body
            finished = body["lastStatus"] == "STOPPED" and body["desiredStatus"] == "STOPPED"
            if finished and float(body.get("stoppedAt") or body["createdAt"]) < horizon:
                await self.store.delete(KIND, stored.key, expected_version=stored.version)
                self._encoded.pop(stored.key, None)
                forgotten += 1
        return forgotten

    # ------------------------------------------------------------------ the agent's side
    async def assignments(self, instance_id: str) -> Assignments:
        """The instance's whole desired set: every task placed on it that is not finished.

        Every answer holds the whole set, so a service scaling out on one instance is answered 1, 2,
        ..., N tasks. Each task's JSON form names its task definition (``taskDefinitionRef``) and
        the answer carries each definition once: 50 copies of a service sent 50 copies of it. The
        task's JSON form is kept with the stored version it came from, and made again only when the
        task changed; a definition's, by its reference (a revision with a given task size never
        changes; deregistration changes only its status, which the agent does not read). The dicts
        are shared between answers: read only."""
        tasks: list[dict[str, Any]] = []
        definitions: dict[str, dict[str, Any]] = {}
        for stored in await self.store.find(KIND, parent=instance_id):
            body = stored.body
            if body["lastStatus"] == "STOPPED" and body["desiredStatus"] == "STOPPED":
                self._encoded.pop(stored.key, None)
                continue
            ref = _definition_ref(body)
            definition, definitions[ref] = await self._definition(body, ref)
            cached = self._encoded.get(stored.key)
            if cached is None or cached[0] != stored.version:
                assignment = self._assignment(body, definition)
                cached = stored.version, assignment_to_json(assignment, definition_ref=ref)
                self._encoded[stored.key] = cached
            tasks.append(cached[1])
        return Assignments(tasks, definitions)

    async def _definition(self, body: Mapping[str, Any], ref: str) -> tuple[TaskDefinition, dict[str, Any]]:
        """The task's definition with its task-level size, and its JSON form; made once per ``ref``."""
        known = self._definitions.get(ref)
        if known is None:
            registered = await self.taskdefs.describe(body["taskDefinitionArn"])
            definition = with_task_size(registered.definition, *_task_size(body))
            known = self._definitions[ref] = definition, taskdef_to_json(definition)
        return known

    def _assignment(self, body: Mapping[str, Any], td: TaskDefinition) -> TaskAssignment:
        overrides = tuple(ecs_override_from_json(o) for o in body["overrides"]["containerOverrides"])
        return TaskAssignment(
            task_arn=body["taskArn"],
            cluster=body["clusterArn"].rsplit("/", 1)[-1],
            definition=td,
            desired_status=DesiredStatus(body["desiredStatus"]),
            overrides=overrides,
            stop_code=StopCode(body["stopCode"]) if body.get("stopCode") else None,
            stopped_reason=body.get("stoppedReason"),
            started_by=body.get("startedBy"),
            group=body.get("group"),
            nfs_volumes={k: nfs_from_json(m) for k, m in (body.get("nfsVolumes") or {}).items()},
            launch_type=body.get("launchType") or "EXTERNAL",
        )

    async def report(self, instance_id: str, snapshot: Mapping[str, Any]) -> int:
        """Store an agent's task snapshot; returns the seq now stored (reports at or below it change nothing)."""
        task_id = str(snapshot["taskArn"]).rsplit("/", 1)[-1]
        stored = await self.store.get(KIND, task_id)
        if stored is None or stored.parent != instance_id:
            raise AccessDeniedError(f"Task {snapshot['taskArn']} is not assigned to instance {instance_id}.")

        def merge(body: Mapping[str, Any]) -> dict[str, Any]:
            if snapshot["seq"] <= body["seq"]:
                return dict(body)
            return with_attachment_status({**body, **_task_fields(snapshot)})

        updated = await retry_update(self.store, KIND, task_id, merge)
        return int(updated.body["seq"])


def _task_size(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The task-level cpu and memory RunTask's overrides set, if any."""
    size = body["overrides"]
    return (
        int(size["cpu"]) if size.get("cpu") else None,
        int(size["memory"]) if size.get("memory") else None,
    )


def _definition_ref(body: Mapping[str, Any]) -> str:
    """Names a task's definition as the agent gets it: the revision and the task-level size."""
    cpu, memory = _task_size(body)
    if cpu is None and memory is None:
        return str(body["taskDefinitionArn"])
    return f"{body['taskDefinitionArn']} cpu={cpu or ''} memory={memory or ''}"


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


def _task_overrides(request: RunRequest) -> dict[str, Any]:
    """ECS's TaskOverride shape; cpu and memory are strings there, as in task definitions."""
    out: dict[str, Any] = {"containerOverrides": [ecs_override_to_json(o) for o in request.overrides]}
    if request.task_cpu is not None:
        out["cpu"] = str(request.task_cpu)
    if request.task_memory is not None:
        out["memory"] = str(request.task_memory)
    return out


def _epoch(value: Any) -> float | None:
    parsed = time_from_json(value)
    return parsed.timestamp() if parsed else None


def _task_fields(s: Mapping[str, Any]) -> dict[str, Any]:
    """The ECS Task members an agent snapshot (wire form) determines."""
    fields: dict[str, Any] = {
        "seq": s["seq"],
        "lastStatus": s["lastStatus"],
        "desiredStatus": s["desiredStatus"],
        "healthStatus": s["healthStatus"],
        "stopCode": s.get("stopCode"),
        "stoppedReason": s.get("stoppedReason"),
        "containers": [_container(s["taskArn"], c) for c in s["containers"]],
    }
    for member in _TIMES:
        fields[member] = _epoch(s.get(member))
    return {k: v for k, v in fields.items() if v is not None or k in ("stopCode", "stoppedReason")}


def _container(task_arn: str, c: Mapping[str, Any]) -> dict[str, Any]:
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
    return {k: v for k, v in out.items() if v is not None}


def decode_placement(data: Mapping[str, Any]) -> tuple[list[PlacementStrategy], list[PlacementConstraint]]:
    strategies = [
        PlacementStrategy(PlacementStrategyType(x["type"]), x.get("field", "")) for x in data["strategies"]
    ]
    constraints = [
        placement_constraint(PlacementConstraintType(x["type"]), x.get("expression", ""))
        for x in data["constraints"]
    ]
    return strategies, constraints
