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
from minecs.settings import ControllerTuning
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
    def on(cls, store: Store, identity: Identity, tuning: ControllerTuning | None = None) -> ControlPlane:
        tuning = tuning or ControllerTuning()
        taskdefs = TaskDefinitions(store, identity)
        clusters = Clusters(store, identity)
        instances = Instances(store, identity, agent_timeout=timedelta(seconds=tuning.agent_timeout))
        versions = AssignmentVersions(store)
        tasks = Tasks(
            store,
            identity,
            taskdefs=taskdefs,
            clusters=clusters,
            instances=instances,
            versions=versions,
            retention=timedelta(seconds=tuning.stopped_task_retention),
            efs=tuning.efs,
        )
        services = Services(
            store,
            identity,
            taskdefs=taskdefs,
            clusters=clusters,
            tasks=tasks,
            healthy_delay=timedelta(seconds=tuning.healthy_delay),
            launch_backoff=timedelta(seconds=tuning.launch_backoff),
        )
        return cls(store, identity, taskdefs, clusters, instances, versions, tasks, services)

    @classmethod
    async def open(
        cls, data_dir: Path, identity: Identity, tuning: ControllerTuning | None = None
    ) -> ControlPlane:
        store = await SqliteStore.open(data_dir / "minecs.db")
        return cls.on(store, identity, tuning)

    async def close(self) -> None:
        await self.store.close()
