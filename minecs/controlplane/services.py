"""Services (REPLICA and DAEMON): create, update (new deployments), delete; the API's side of them.

A service owns deployments (``ecs-svc/<n>``): the PRIMARY one runs the current task definition,
older ones with tasks left are ACTIVE, finished ones are dropped (INACTIVE). Status goes ACTIVE →
DRAINING (DeleteService) → INACTIVE (no task left), after which the name may be created again.
What a reconcile pass does lives in ``minecs.controlplane.scheduler``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.controlplane.clusters import Clusters
from minecs.controlplane.scheduler import ServiceScheduler
from minecs.controlplane.taskdefs import Identity, TaskDefinitions
from minecs.controlplane.tasks import Tasks
from minecs.errors import ClientError, InvalidParameterError, NotFoundError
from minecs.model.codec import encode
from minecs.model.service import ServiceSpec
from minecs.model.stored import SERVICE_KIND as KIND
from minecs.model.stored import DeploymentBody
from minecs.scheduling.launch import FARGATE_PROVIDERS, LaunchRequest, request_of, resolve, resolve_in
from minecs.scheduling.record import deployment, with_events
from minecs.store import Store, Stored, retry_update
from minecs.validation.service import DESIRED_COUNT_RANGE, MAX_DESIRED_COUNT


def service_key(cluster: str, name: str) -> str:
    return f"{cluster}/{name}"


class Services:
    def __init__(
        self,
        store: Store,
        identity: Identity,
        *,
        taskdefs: TaskDefinitions,
        clusters: Clusters,
        tasks: Tasks,
        healthy_delay: timedelta = timedelta(seconds=40),
        launch_backoff: timedelta = timedelta(seconds=10),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.identity = store, identity
        self.taskdefs, self.clusters, self.tasks = taskdefs, clusters, tasks
        self.clock = clock
        self.scheduler = ServiceScheduler(
            store,
            tasks,
            self._deployment,
            healthy_delay=healthy_delay,
            launch_backoff=launch_backoff,
            clock=clock,
        )

    async def create(self, spec: ServiceSpec) -> Mapping[str, Any]:
        found = await self.clusters.get_active(spec.cluster)
        cluster = found["clusterName"]
        td = (await self.taskdefs.describe(spec.task_definition or "")).definition
        asked = LaunchRequest(
            spec.launch_type.value if spec.launch_type else None,
            spec.capacity_provider_strategy,
            spec.platform_version,
            spec.network_configuration,
        )
        launch = resolve_in(found, asked, td)
        existing = await self.store.get(KIND, service_key(cluster, spec.service_name))
        request = {k: v for k, v in encode(spec).items() if k != "clientToken"}
        if existing is not None and existing.body["status"] != "INACTIVE":
            # A retried CreateService (same members; botocore's retry, a script run twice) gets the
            # service it made, as in ECS; a different one under the same name is refused.
            if existing.body["status"] == "ACTIVE" and existing.body.get("createRequest") == request:
                return existing.body
            raise InvalidParameterError("Creation of service was not idempotent.")
        config = encode(spec.deployment_configuration) if spec.deployment_configuration else {}
        now = self.clock().timestamp()
        prefix = f"arn:aws:ecs:{self.identity.region}:{self.identity.account}"
        first = await self._deployment(td.task_definition_arn, spec.desired_count or 0, now)
        body = {
            **_without_launch(encode(spec)),
            **launch.service_members(),
            "serviceArn": f"{prefix}:service/{cluster}/{spec.service_name}",
            "clusterArn": f"{prefix}:cluster/{cluster}",
            "cluster": cluster,
            "status": "ACTIVE",
            "taskDefinition": td.task_definition_arn,
            "desiredCount": spec.desired_count or 0,
            "runningCount": 0,
            "pendingCount": 0,
            "deploymentConfiguration": {**_deployment_defaults(spec), **config},
            "deployments": [{**first, **launch.deployment_members()}],
            "events": [],
            "createdAt": now,
            "createRequest": request,
        }
        key = service_key(cluster, spec.service_name)
        if existing is None:
            return (await self.store.create(KIND, key, body, cluster=cluster)).body
        return (await self.store.update(KIND, key, body, expected_version=existing.version)).body

    async def _deployment(self, task_definition: str, desired: int, now: float) -> DeploymentBody:
        number = await self.store.next_sequence("deployments")
        return deployment(f"ecs-svc/{number:019d}", task_definition, desired, now)

    async def get(self, cluster: str | None, name: str) -> Mapping[str, Any]:
        cluster_name = (await self.clusters.get_active(cluster))["clusterName"]
        stored = await self.store.get(KIND, service_key(cluster_name, name.rsplit("/", 1)[-1]))
        if stored is None:
            raise NotFoundError("Service not found.", code="ServiceNotFoundException")
        return stored.body

    async def update(
        self,
        cluster: str | None,
        name: str,
        *,
        desired_count: int | None = None,
        task_definition: str | None = None,
        force_new_deployment: bool = False,
        deployment_configuration: Mapping[str, Any] | None = None,
        enable_execute_command: bool | None = None,
    ) -> Mapping[str, Any]:
        """UpdateService; ``deployment_configuration`` (ECS's encoded members) is merged over the current one.

        ``enable_execute_command`` applies to tasks launched from then on, as in ECS (force a new
        deployment to have it on every task)."""
        current = await self.get(cluster, name)
        if current["status"] != "ACTIVE":
            raise ClientError("Service is not ACTIVE.", code="ServiceNotActiveException")
        if desired_count is not None and not 0 <= desired_count <= MAX_DESIRED_COUNT:
            raise InvalidParameterError(DESIRED_COUNT_RANGE)
        definition = (await self.taskdefs.describe(task_definition or current["taskDefinition"])).definition
        # A new revision is held to the service's launch rules, as ECS does ("Task definition does not
        # support launch_type FARGATE."); the cluster's providers were checked when the service was made.
        launch = resolve(request_of(current), definition, associated=FARGATE_PROVIDERS)
        new_td = definition.task_definition_arn if task_definition else None
        fresh = None
        if force_new_deployment or (new_td is not None and new_td != current["taskDefinition"]):
            desired = current["desiredCount"] if desired_count is None else desired_count
            fresh = {
                **await self._deployment(
                    new_td or current["taskDefinition"], desired, self.clock().timestamp()
                ),
                **launch.deployment_members(),
            }
        change = _Change(desired_count, enable_execute_command, deployment_configuration, fresh)
        key = service_key(current["cluster"], current["serviceName"])
        return (await retry_update(self.store, KIND, key, change.apply)).body

    async def delete(self, cluster: str | None, name: str, *, force: bool = False) -> Mapping[str, Any]:
        """DeleteService: the service turns DRAINING, its tasks are stopped, then it is INACTIVE.

        As in ECS, a REPLICA service still scaled above 0 needs ``force``; a DAEMON service does not
        (it has no desiredCount of its own to scale down).
        """
        current = await self.get(cluster, name)
        if current["status"] != "ACTIVE":
            return current  # already draining or gone: deleting again changes nothing
        daemon = current.get("schedulingStrategy") == "DAEMON"
        if current["desiredCount"] > 0 and not force and not daemon:
            raise InvalidParameterError("The service cannot be stopped while it is scaled above 0.")
        return (
            await retry_update(
                self.store,
                KIND,
                service_key(current["cluster"], current["serviceName"]),
                lambda body: {**body, "status": "DRAINING", "desiredCount": 0},
            )
        ).body

    async def reconcile(self, key: str) -> None:
        await self.scheduler.reconcile(key)

    async def note_failure(self, key: str, message: str) -> None:
        """An event saying a reconcile pass could not handle the service (said once, not every pass)."""

        stored = await self.store.get(KIND, key)
        if stored is None:
            return
        event = f"(service {stored.body['serviceName']}) could not be reconciled: {message}"
        if stored.body["events"] and stored.body["events"][0]["message"] == event:
            return  # said already: a poisoned service must not cost a write every pass
        await retry_update(
            self.store, KIND, key, lambda body: with_events(body, [event], self.clock().timestamp())
        )

    async def in_cluster(self, cluster: str) -> list[Mapping[str, Any]]:
        """The cluster's services that are not deleted."""
        return [
            s.body for s in await self.store.find(KIND, cluster=cluster) if s.body["status"] != "INACTIVE"
        ]

    async def scan(self, cluster: str, after: str | None, limit: int) -> list[Stored]:
        """The cluster's services page by page, in key order, INACTIVE ones too (ListServices)."""
        return await self.store.scan(KIND, cluster=cluster, after=after, limit=limit)

    async def keys(self) -> list[str]:
        """Every service's key, for the reconcile loop."""
        return [s.key for s in await self.store.find(KIND)]


def is_steady(service: Mapping[str, Any]) -> bool:
    """A service as ``describe`` shows it is steady: one COMPLETED deployment, all desired tasks running."""
    return (
        len(service["deployments"]) == 1
        and service["deployments"][0].get("rolloutState") == "COMPLETED"
        and service["runningCount"] == service["desiredCount"]
        and service["pendingCount"] == 0
    )


_LAUNCH_MEMBERS = ("launchType", "capacityProviderStrategy", "platformVersion", "networkConfiguration")


def _without_launch(encoded: Mapping[str, Any]) -> dict[str, Any]:
    """A CreateService request without its launch members: the resolved launch says those."""
    return {k: v for k, v in encoded.items() if k not in _LAUNCH_MEMBERS}


def _deployment_defaults(spec: ServiceSpec) -> dict[str, int]:
    """ECS's defaults: REPLICA 200 % / 100 %, DAEMON 100 % / 0 % (the API's, not the console's 50 %)."""
    if spec.scheduling_strategy.value == "DAEMON":
        return {"maximumPercent": 100, "minimumHealthyPercent": 0}
    return {"maximumPercent": 200, "minimumHealthyPercent": 100}


@dataclass(frozen=True)
class _Change:
    """What one UpdateService changes; ``apply`` makes the change on the service's fresh body."""

    desired_count: int | None
    enable_execute_command: bool | None
    deployment_configuration: Mapping[str, Any] | None
    fresh: dict[str, Any] | None
    """A new PRIMARY deployment, when the update starts one."""

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        changed = dict(body)
        if self.desired_count is not None:
            changed["desiredCount"] = self.desired_count
        if self.enable_execute_command is not None:
            changed["enableExecuteCommand"] = self.enable_execute_command
        if self.deployment_configuration:
            changed["deploymentConfiguration"] = {
                **body["deploymentConfiguration"],
                **self.deployment_configuration,
            }
        if self.fresh is not None:
            changed["taskDefinition"] = self.fresh["taskDefinition"]
            old = [{**d, "status": "ACTIVE"} for d in body["deployments"]]
            changed["deployments"] = [self.fresh, *old]
        changed["deployments"] = [
            {**d, "desiredCount": changed["desiredCount"]} if d["status"] == "PRIMARY" else d
            for d in changed["deployments"]
        ]
        return changed
