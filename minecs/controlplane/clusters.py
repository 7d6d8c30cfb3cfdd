"""Clusters in the control plane: create (idempotent, as ECS), describe, list, update settings, delete.

ECS behaviour kept here: a ``default`` cluster exists on first use; ``CreateCluster`` for a name that
is ACTIVE already returns that cluster unchanged; a deleted cluster turns INACTIVE (still
describable) and its name can be created again; ``DeleteCluster`` is refused while the cluster holds
services, tasks or registered container instances, each with its own ECS exception and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minecs.controlplane.taskdefs import Identity
from minecs.errors import ClientError, NotFoundError, VersionConflictError
from minecs.model.codec import encode
from minecs.model.service import ClusterSetting, ClusterSpec
from minecs.model.task import PENDING_STATUSES
from minecs.store import Store, retry_update

KIND = "cluster"
DEFAULT = "default"
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"

# What blocks a deletion: stored kind, its status member, the statuses that no longer count,
# and the ECS exception code and message.
_BLOCKERS = (
    (
        "service",
        "status",
        {"INACTIVE"},
        "ClusterContainsServicesException",
        "The Cluster cannot be deleted while Services are active.",
    ),
    (
        "task",
        "lastStatus",
        {"STOPPED"},
        "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active.",
    ),
    (
        "instance",
        "status",
        {"INACTIVE", "DEREGISTERING"},
        "ClusterContainsContainerInstancesException",
        "The Cluster cannot be deleted while Container Instances are active or draining.",
    ),
)


@dataclass(frozen=True)
class Failure:
    arn: str
    reason: str = "MISSING"


def cluster_arn(identity: Identity, name: str) -> str:
    return f"arn:aws:ecs:{identity.region}:{identity.account}:cluster/{name}"


def cluster_name(reference: str) -> str:
    """A cluster name from a name or a cluster ARN."""
    return reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference


class Clusters:
    def __init__(self, store: Store, identity: Identity) -> None:
        self.store = store
        self.identity = identity

    def _body(self, spec: ClusterSpec, name: str) -> dict[str, Any]:
        return {
            **encode(spec),
            "clusterName": name,
            "clusterArn": cluster_arn(self.identity, name),
            "status": ACTIVE,
        }

    async def create(self, spec: ClusterSpec) -> Mapping[str, Any]:
        name = spec.cluster_name or DEFAULT
        existing = await self.store.get(KIND, name)
        if existing is not None and existing.body["status"] == ACTIVE:
            return existing.body
        body = self._body(spec, name)
        if existing is None:
            try:
                return (await self.store.create(KIND, name, body)).body
            except VersionConflictError:  # created meanwhile by another request
                stored = await self.store.get(KIND, name)
                return stored.body if stored else body
        return (await self.store.update(KIND, name, body, expected_version=existing.version)).body

    async def ensure_default(self) -> Mapping[str, Any]:
        return await self.create(ClusterSpec(cluster_name=DEFAULT))

    async def get_active(self, reference: str | None) -> Mapping[str, Any]:
        """The ACTIVE cluster a request names (``default`` when none): ClusterNotFoundException if absent."""
        name = cluster_name(reference or DEFAULT)
        if name == DEFAULT:
            return await self.ensure_default()
        stored = await self.store.get(KIND, name)
        if stored is None or stored.body["status"] != ACTIVE:
            raise NotFoundError("Cluster not found.", code="ClusterNotFoundException")
        return stored.body

    async def describe(self, references: list[str]) -> tuple[list[Mapping[str, Any]], list[Failure]]:
        found, failures = [], []
        for reference in references or [DEFAULT]:
            name = cluster_name(reference)
            stored = await self.store.get(KIND, name)
            if stored is None and name == DEFAULT:
                found.append(await self.ensure_default())
            elif stored is None:
                failures.append(Failure(cluster_arn(self.identity, name)))
            else:
                found.append(stored.body)
        return found, failures

    async def counts(self, name: str) -> dict[str, int]:
        """DescribeClusters' counts for cluster ``name``, from the store's status index (no body read)."""
        counts = await self.store.count_by_status(("task", "instance", "service"), cluster=name)
        tasks, instances, services = counts["task"], counts["instance"], counts["service"]
        return {
            "registeredContainerInstancesCount": instances.get("ACTIVE", 0) + instances.get("DRAINING", 0),
            "runningTasksCount": tasks.get("RUNNING", 0),
            "pendingTasksCount": sum(tasks.get(status, 0) for status in PENDING_STATUSES),
            "activeServicesCount": services.get("ACTIVE", 0),
        }

    async def list_arns(self) -> list[str]:
        return [s.body["clusterArn"] for s in await self.store.find(KIND) if s.body["status"] == ACTIVE]

    async def update_settings(self, reference: str, settings: list[ClusterSetting]) -> Mapping[str, Any]:
        name = cluster_name(reference)
        await self.get_active(name)

        def apply(body: Mapping[str, Any]) -> dict[str, Any]:
            # A nameless setting (stored before settings were checked) is dropped, not tripped over.
            merged = {s["name"]: s for s in body.get("settings", []) if s.get("name")}
            merged.update({s.name or "": encode(s) for s in settings})
            return {**body, "settings": list(merged.values())}

        return (await retry_update(self.store, KIND, name, apply)).body

    async def delete(self, reference: str) -> Mapping[str, Any]:
        name = cluster_name(reference)
        await self.get_active(name)
        for kind, member, finished, code, message in _BLOCKERS:
            if any(s.body.get(member) not in finished for s in await self.store.find(kind, cluster=name)):
                raise ClientError(message, code=code)
        return (await retry_update(self.store, KIND, name, lambda body: {**body, "status": INACTIVE})).body
