"""Tasks in the control plane: run/start, stop, describe and list, over the parts that do the rest.

A task is stored once, under its id, in its cluster; its ``parent`` is the instance it is placed on
("" while unplaced). ``Tasks`` is the face the API and the scheduler use; the work is in rooms of
its own: ``requests`` (what a run request makes), ``placing`` (where a task goes),
``assignments`` (what an instance should run) and ``reports`` (what the agent says happened).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.controlplane.assignments import Assignments, AssignmentSets, AssignmentVersions
from minecs.controlplane.clusters import Clusters, Failure
from minecs.controlplane.efs import nfs_volumes
from minecs.controlplane.instances import Instances
from minecs.controlplane.placing import OnFailure, Placer
from minecs.controlplane.reports import apply_report
from minecs.controlplane.requests import MAX_COUNT, RunRequest, launch_members, new_task, plan_of
from minecs.controlplane.taskdefs import Identity, TaskDefinitions
from minecs.errors import ClientError, InvalidParameterError
from minecs.model.efs import nfs_to_json
from minecs.model.stored import TASK_KIND as KIND
from minecs.model.task import USER_STOP_REASON, StopCode
from minecs.model.taskdef import TaskDefinitionStatus
from minecs.scheduling.launch import provider_for, resolve_in, with_attachment_status
from minecs.scheduling.needs import with_task_size
from minecs.scheduling.placement import Candidate
from minecs.settings import EfsSettings
from minecs.store import Store, Stored, retry_update


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
        self.placer = Placer(store, instances, versions)
        self.sets = AssignmentSets(store, taskdefs)

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
        plan = plan_of(request, sized)
        placed = dict(request.provider_counts)
        created = []
        for index in range(count):
            provider = provider_for(launch.strategy, placed) if launch.strategy else None
            if provider is not None:
                placed[provider] = placed.get(provider, 0) + 1
            members = launch_members(launch, provider)
            body = new_task(
                self.identity,
                cluster,
                sized,
                request,
                plan=plan,
                launch_members=members,
                now=self.clock().timestamp(),
            )
            if mounts:  # resolved once, so the agent mounts what was checked here
                body["nfsVolumes"] = mounts
            task_id = body["taskArn"].rsplit("/", 1)[-1]
            await self.store.create(KIND, task_id, body, cluster=cluster)
            pinned = request.instance_ids[index] if request.instance_ids else None
            created.append(await self.placer.place(task_id, pinned, plan))
            if until_unplaced and not created[-1]["instanceId"]:
                break
        return created

    async def candidates(self, cluster: str) -> list[Candidate]:
        return await self.placer.candidates(cluster)

    async def described_instances(self, cluster: str) -> list[dict[str, Any]]:
        """The cluster's instances as ECS describes them: remaining resources and task counts included."""
        return await self.placer.described_instances(cluster)

    async def place_pending(self, cluster: str, on_failure: OnFailure | None = None) -> int:
        """Try again to place the cluster's unplaced PENDING tasks; returns how many found a home."""
        return await self.placer.place_pending(cluster, on_failure)

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
                self.sets.forget(stored.key)
                forgotten += 1
        return forgotten

    # ------------------------------------------------------------------ the agent's side
    async def assignments(self, instance_id: str) -> Assignments:
        """The instance's whole desired set (``AssignmentSets.of``)."""
        return await self.sets.of(instance_id)

    async def report(self, instance_id: str, snapshot: Mapping[str, Any]) -> int:
        """Store an agent's task snapshot; returns the seq now stored (reports at or below it change nothing)."""
        return await apply_report(self.store, instance_id, snapshot)
