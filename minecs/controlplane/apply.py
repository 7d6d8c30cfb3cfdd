"""Declarative apply: make the store match a set of documents, like ``kubectl apply``.

* a Cluster is created if missing (settings updated if they differ);
* a TaskDefinition registers a new revision only when its spec differs from the latest ACTIVE one;
* a Service is created if missing; otherwise its desiredCount and task definition are updated, and a
  task definition given as a bare family follows the family's latest revision, so re-applying a
  changed task definition rolls the service, and re-applying unchanged files changes nothing.

Documents are applied in the order clusters, task definitions, services, so one file can hold all.
Each result says ``created``, ``configured`` or ``unchanged``.

With ``missing_only`` (what ``minecs up --seed`` asks for: its demo manifests are a first-start
convenience) an object that already exists is never touched and its result says ``skipped``: a
family with an ACTIVE revision (whatever that revision holds), a service that is not INACTIVE. An
ACTIVE cluster gets only the settings it has never held (the ``default`` cluster exists from the
start, and the demo's ``containerInsights`` must still reach it once). So a user's new revision,
scale, update or setting survives every later start.
"""

from __future__ import annotations

from dataclasses import dataclass

from minecs.controlplane.plane import ControlPlane
from minecs.errors import NotFoundError
from minecs.manifests import Document, Kind
from minecs.model.service import ClusterSpec, ServiceSpec
from minecs.model.taskdef import TaskDefinitionSpec

_ORDER = {Kind.CLUSTER: 0, Kind.TASK_DEFINITION: 1, Kind.SERVICE: 2}


@dataclass(frozen=True)
class Applied:
    kind: str
    name: str
    outcome: str
    detail: str = ""


SKIPPED = "skipped"


async def apply(
    plane: ControlPlane, documents: list[Document], *, missing_only: bool = False
) -> list[Applied]:
    results = []
    for doc in sorted(documents, key=lambda d: _ORDER[d.kind]):
        body = doc.body
        if missing_only and await _exists(plane, body):
            results.append(Applied(doc.kind.value, doc.name, SKIPPED, "exists"))
            continue
        if isinstance(body, ClusterSpec):
            results.append(await _cluster(plane, body, missing_only=missing_only))
        elif isinstance(body, TaskDefinitionSpec):
            registered = await plane.taskdefs.register_if_changed(body)
            arn = registered.definition.task_definition_arn
            results.append(
                Applied("TaskDefinition", body.family, "created" if registered.created else "unchanged", arn)
            )
        elif isinstance(body, ServiceSpec):
            results.append(await _service(plane, body))
    return results


async def _exists(plane: ControlPlane, body: ClusterSpec | TaskDefinitionSpec | ServiceSpec) -> bool:
    if isinstance(body, ClusterSpec):
        return False  # settings it lacks are still added: _cluster
    if isinstance(body, TaskDefinitionSpec):
        return await plane.taskdefs.latest_active(body.family) is not None
    try:
        current = await plane.services.get(body.cluster, body.service_name)
    except NotFoundError:
        return False
    return bool(current["status"] != "INACTIVE")


async def _cluster(plane: ControlPlane, spec: ClusterSpec, *, missing_only: bool) -> Applied:
    name = spec.cluster_name or "default"
    found, _ = await plane.clusters.describe([name])
    existed = bool(found) and found[0]["status"] == "ACTIVE"
    await plane.clusters.create(spec)
    settings = found[0].get("settings", []) if existed else []
    current = {s.get("name"): s.get("value") for s in settings}
    wanted = [s for s in spec.settings if s.name not in current or not missing_only]
    if existed and any(current.get(s.name or "") != s.value for s in wanted):
        await plane.clusters.update_settings(name, wanted)
        return Applied("Cluster", name, "configured")
    if existed:
        return Applied("Cluster", name, SKIPPED if missing_only else "unchanged")
    return Applied("Cluster", name, "created")


async def _service(plane: ControlPlane, spec: ServiceSpec) -> Applied:
    try:
        current = await plane.services.get(spec.cluster, spec.service_name)
    except NotFoundError:
        current = None
    if current is None or current["status"] == "INACTIVE":
        created = await plane.services.create(spec)
        return Applied("Service", spec.service_name, "created", created["deployments"][0]["taskDefinition"])
    wanted_td = (await plane.taskdefs.describe(spec.task_definition or "")).definition.task_definition_arn
    desired = spec.desired_count if spec.desired_count is not None else current["desiredCount"]
    exec_enabled = bool(spec.enable_execute_command)
    if (wanted_td, desired, exec_enabled) == (
        current["taskDefinition"],
        current["desiredCount"],
        bool(current.get("enableExecuteCommand")),
    ):
        return Applied("Service", spec.service_name, "unchanged", wanted_td)
    await plane.services.update(
        spec.cluster,
        spec.service_name,
        desired_count=desired,
        task_definition=wanted_td,
        enable_execute_command=exec_enabled,
    )
    return Applied("Service", spec.service_name, "configured", wanted_td)
