"""The control plane assembled: one store and every service on it, opened from a data directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from minecs.controlplane.assignments import AssignmentVersions
from minecs.controlplane.clusters import Clusters
from minecs.controlplane.instances import Instances
from minecs.controlplane.services import Services
from minecs.controlplane.taskdefs import Identity, TaskDefinitions
from minecs.controlplane.tasks import Tasks
from minecs.store import Store
from minecs.store.sqlite import SqliteStore


@dataclass
class ControlPlane:
    store: Store
    identity: Identity
    taskdefs: TaskDefinitions
    clusters: Clusters
    instances: Instances
    versions: AssignmentVersions
    tasks: Tasks
    services: Services

    @classmethod
    def on(
        cls, store: Store, identity: Identity, *, agent_timeout: timedelta = timedelta(seconds=60)
    ) -> ControlPlane:
        taskdefs = TaskDefinitions(store, identity)
        clusters = Clusters(store, identity)
        instances = Instances(store, identity, agent_timeout=agent_timeout)
        versions = AssignmentVersions(store)
        tasks = Tasks(
            store, identity, taskdefs=taskdefs, clusters=clusters, instances=instances, versions=versions
        )
        services = Services(store, identity, taskdefs=taskdefs, clusters=clusters, tasks=tasks)
        return cls(store, identity, taskdefs, clusters, instances, versions, tasks, services)

    @classmethod
    async def open(
        cls, data_dir: Path, identity: Identity, *, agent_timeout: timedelta = timedelta(seconds=60)
    ) -> ControlPlane:
        store = await SqliteStore.open(data_dir / "minecs.db")
        return cls.on(store, identity, agent_timeout=agent_timeout)

    async def close(self) -> None:
        await self.store.close()
