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

With ``dry_run`` (``apply --dry-run=server`` and ``diff -f``, as kubectl's server-side dry run) the
same reading decides each outcome and nothing is written; each result also carries ``live`` and
``wanted``, the parts of the object that apply compares, for ``diff`` to show. A service that names
a family whose new revision the same batch would register is compared with that coming revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import KIND as TASKDEF_KIND
from minecs.errors import NotFoundError
from minecs.manifests import Document, Kind
from minecs.model.codec import encode
from minecs.model.registered import spec_of, task_definition_arn
from minecs.model.service import ClusterSpec, ServiceSpec
from minecs.model.taskdef import TaskDefinitionSpec

_ORDER = {Kind.CLUSTER: 0, Kind.TASK_DEFINITION: 1, Kind.SERVICE: 2}


@dataclass(frozen=True)
class Applied:
    kind: str
    name: str
    outcome: str
    detail: str = ""
    live: Any = None
    wanted: Any = None


SKIPPED = "skipped"


async def apply(
    plane: ControlPlane, documents: list[Document], *, missing_only: bool = False, dry_run: bool = False
) -> list[Applied]:
    if dry_run:
        return await _dry_run(plane, documents)
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


async def _dry_run(plane: ControlPlane, documents: list[Document]) -> list[Applied]:
    """What ``apply`` would answer for ``documents``, with what it compares; nothing is written."""
    coming: dict[str, str] = {}  # family -> the ARN of the revision this batch would register
    results = []
    for doc in sorted(documents, key=lambda d: _ORDER[d.kind]):
        body = doc.body
        if isinstance(body, ClusterSpec):
            results.append(await _cluster_plan(plane, body))
        elif isinstance(body, TaskDefinitionSpec):
            latest = await plane.taskdefs.latest_active(body.family)
            live = encode(spec_of(latest.definition, latest.tags)) if latest else None
            wanted = encode(body)
            if latest is not None and live == wanted:
                arn = latest.definition.task_definition_arn
                results.append(Applied("TaskDefinition", body.family, "unchanged", arn, live, wanted))
                continue
            revision = latest.definition.revision + 1 if latest else await _next_revision(plane, body.family)
            arn = task_definition_arn(plane.identity.region, plane.identity.account, body.family, revision)
            coming[body.family] = arn
            results.append(Applied("TaskDefinition", body.family, "created", arn, live, wanted))
        elif isinstance(body, ServiceSpec):
            results.append(await _service_plan(plane, body, coming))
    return results


async def _next_revision(plane: ControlPlane, family: str) -> int:
    """A family with no ACTIVE revision continues after its newest INACTIVE one, as ECS numbers."""
    inactive = await plane.store.seek(
        TASKDEF_KIND, status="INACTIVE", parent=family, descending=True, limit=1
    )
    return int(inactive[0].body["taskDefinition"]["revision"]) + 1 if inactive else 1


async def _cluster_plan(plane: ControlPlane, spec: ClusterSpec) -> Applied:
    name = spec.cluster_name or "default"
    found, _ = await plane.clusters.describe([name])
    existed = bool(found) and found[0]["status"] == "ACTIVE"
    current = {s.get("name"): s.get("value") for s in (found[0].get("settings", []) if existed else [])}
    wanted = {s.name: s.value for s in spec.settings}
    live = {"settings": current} if existed else None
    if not existed:
        return Applied("Cluster", name, "created", "", None, {"settings": wanted})
    changed = any(current.get(k) != v for k, v in wanted.items())
    outcome = "configured" if changed else "unchanged"
    return Applied("Cluster", name, outcome, "", live, {"settings": {**current, **wanted}})


async def _service_plan(plane: ControlPlane, spec: ServiceSpec, coming: dict[str, str]) -> Applied:
    try:
        current = await plane.services.get(spec.cluster, spec.service_name)
    except NotFoundError:
        current = None
    reference = spec.task_definition or ""
    if reference in coming:
        wanted_td = coming[reference]
    else:
        wanted_td = (await plane.taskdefs.describe(reference)).definition.task_definition_arn
    exists = current is not None and current["status"] != "INACTIVE"
    desired = spec.desired_count if spec.desired_count is not None else (current or {}).get("desiredCount", 1)
    wanted = {
        "taskDefinition": wanted_td,
        "desiredCount": desired,
        "enableExecuteCommand": bool(spec.enable_execute_command),
    }
    if current is None or not exists:
        return Applied("Service", spec.service_name, "created", wanted_td, None, wanted)
    live = {
        "taskDefinition": current["taskDefinition"],
        "desiredCount": current["desiredCount"],
        "enableExecuteCommand": bool(current.get("enableExecuteCommand")),
    }
    outcome = "unchanged" if live == wanted else "configured"
    return Applied("Service", spec.service_name, outcome, wanted_td, live, wanted)
