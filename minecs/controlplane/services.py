"""Services (REPLICA): create, update (new deployments), delete, and one reconcile step per service.

A service owns deployments (``ecs-svc/<n>``): the PRIMARY one runs the current task definition,
older ones with tasks left are ACTIVE, finished ones are dropped (INACTIVE). Each service task carries
``startedBy`` = its deployment id and ``group`` = ``service:<name>``, as in ECS. ``reconcile`` takes the
stored tasks as the truth and applies ``minecs.scheduling.deployments.rolling_step``: start new tasks,
stop old ones while enough stay healthy, scale in, replace stopped ones, and write ECS's events
(``has started N tasks``, ``has stopped N running tasks``, ``has reached a steady state.``).

Not yet here (issue 5 continues): DAEMON services, the deployment circuit breaker with rollback,
replacing unhealthy tasks, launch back-off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.controlplane.clusters import Clusters
from minecs.controlplane.taskdefs import Identity, TaskDefinitions
from minecs.controlplane.tasks import RunRequest, Tasks, decode_placement
from minecs.errors import ClientError, InvalidParameterError, NotFoundError
from minecs.model.codec import encode
from minecs.model.service import ServiceSpec
from minecs.model.task import StopCode
from minecs.scheduling.deployments import (
    STUCK_EVENT,
    Fleet,
    Step,
    breaker_threshold,
    counts_as_healthy,
    rolling_step,
    steady,
)
from minecs.store import Store, retry_update

KIND = "service"
MAX_EVENTS = 100


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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.identity = store, identity
        self.taskdefs, self.clusters, self.tasks = taskdefs, clusters, tasks
        self.healthy_delay = healthy_delay
        self.clock = clock

    async def create(self, spec: ServiceSpec) -> Mapping[str, Any]:
        cluster = (await self.clusters.get_active(spec.cluster))["clusterName"]
        td = (await self.taskdefs.describe(spec.task_definition or "")).definition
        existing = await self.store.get(KIND, service_key(cluster, spec.service_name))
        if existing is not None and existing.body["status"] != "INACTIVE":
            raise InvalidParameterError("Creation of service was not idempotent.")
        config = encode(spec.deployment_configuration) if spec.deployment_configuration else {}
        now = self.clock().timestamp()
        prefix = f"arn:aws:ecs:{self.identity.region}:{self.identity.account}"
        body = {
            **encode(spec),
            "serviceArn": f"{prefix}:service/{cluster}/{spec.service_name}",
            "clusterArn": f"{prefix}:cluster/{cluster}",
            "cluster": cluster,
            "status": "ACTIVE",
            "taskDefinition": td.task_definition_arn,
            "desiredCount": spec.desired_count or 0,
            "runningCount": 0,
            "pendingCount": 0,
            "deploymentConfiguration": {**_deployment_defaults(spec), **config},
            "deployments": [await self._deployment(td.task_definition_arn, spec.desired_count or 0, now)],
            "events": [],
            "createdAt": now,
        }
        key = service_key(cluster, spec.service_name)
        if existing is None:
            return (await self.store.create(KIND, key, body, cluster=cluster)).body
        return (await self.store.update(KIND, key, body, expected_version=existing.version)).body

    async def _deployment(self, task_definition: str, desired: int, now: float) -> dict[str, Any]:
        number = await self.store.next_sequence("deployments")
        return {
            "id": f"ecs-svc/{number:019d}",
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "desiredCount": desired,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment ecs-svc/{number:019d} in progress.",
        }

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
    ) -> Mapping[str, Any]:
        current = await self.get(cluster, name)
        if current["status"] != "ACTIVE":
            raise ClientError("Service is not ACTIVE.", code="ServiceNotActiveException")
        if desired_count is not None and desired_count < 0:
            raise InvalidParameterError("desiredCount must be >= 0.")
        new_td = (
            (await self.taskdefs.describe(task_definition)).definition.task_definition_arn
            if task_definition
            else None
        )
        now = self.clock().timestamp()
        fresh = (
            await self._deployment(
                new_td or current["taskDefinition"], desired_count or current["desiredCount"], now
            )
            if force_new_deployment or (new_td is not None and new_td != current["taskDefinition"])
            else None
        )

        def change(body: Mapping[str, Any]) -> dict[str, Any]:
            changed = dict(body)
            if desired_count is not None:
                changed["desiredCount"] = desired_count
            if fresh is not None:
                changed["taskDefinition"] = fresh["taskDefinition"]
                old = [{**d, "status": "ACTIVE"} for d in body["deployments"]]
                changed["deployments"] = [fresh, *old]
            changed["deployments"] = [
                {**d, "desiredCount": changed["desiredCount"]} if d["status"] == "PRIMARY" else d
                for d in changed["deployments"]
            ]
            return changed

        return (
            await retry_update(
                self.store, KIND, service_key(current["cluster"], current["serviceName"]), change
            )
        ).body

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> None:
        stored = await self.store.get(KIND, key)
        if stored is None or stored.body["status"] == "INACTIVE":
            return
        service = stored.body
        cluster, name = service["cluster"], service["serviceName"]
        mine = [t for t in await self.tasks.in_cluster(cluster) if t.get("group") == f"service:{name}"]
        if await self._check_breaker(key, service, mine):
            return  # the service changed (failed, maybe rolled back); the next pass works from that
        if service.get("schedulingStrategy") == "DAEMON":
            await self._reconcile_daemon(key, service, mine)
            return
        primary = service["deployments"][0]
        live = [t for t in mine if t["desiredStatus"] == "RUNNING"]
        new = [t for t in live if t.get("startedBy") == primary["id"]]
        old = [t for t in live if t.get("startedBy") != primary["id"]]
        fleet = Fleet(
            service["desiredCount"],
            len(new),
            sum(map(self._healthy, new)),
            len(old),
            sum(map(self._healthy, old)),
        )
        config = service["deploymentConfiguration"]
        step = rolling_step(
            fleet,
            minimum_healthy_percent=config["minimumHealthyPercent"],
            maximum_percent=config["maximumPercent"],
        )
        events: list[str] = []
        if primary["rolloutState"] == "FAILED":
            step = Step(start_new=0, stop_old=0, stop_new=0)  # a failed deployment launches nothing more
        if step.start_new:
            strategies, constraints = decode_placement(_placement(service))
            started = await self.tasks.run(
                RunRequest(
                    task_definition=primary["taskDefinition"],
                    cluster=cluster,
                    count=step.start_new,
                    started_by=primary["id"],
                    group=f"service:{name}",
                    strategies=tuple(strategies),
                    constraints=tuple(constraints),
                )
            )
            events.append(_started_event(name, started))
        victims = self._least_healthy(old)[: step.stop_old] + self._least_healthy(new)[: step.stop_new]
        await self._stop_for(cluster, victims, primary["id"])
        if victims:
            events.append(_stopped_event(name, victims))
        if step.stuck:
            events.append(STUCK_EVENT.format(service=name))
        await retry_update(self.store, KIND, key, lambda body: self._record(body, new, old, events))

    async def _stop_for(self, cluster: str, tasks: list[Mapping[str, Any]], deployment: str) -> None:
        """Stop tasks on the scheduler's behalf, with ECS's stop code and reason."""
        for task in tasks:
            await self.tasks.stop(
                cluster,
                task["taskArn"],
                f"Scaling activity initiated by (deployment {deployment})",
                StopCode.SERVICE_SCHEDULER_INITIATED,
            )

    async def in_cluster(self, cluster: str) -> list[Mapping[str, Any]]:
        """The cluster's services that are not deleted."""
        return [
            s.body for s in await self.store.find(KIND, cluster=cluster) if s.body["status"] != "INACTIVE"
        ]

    async def keys(self) -> list[str]:
        """Every service's key, for the reconcile loop."""
        return [s.key for s in await self.store.find(KIND)]

    async def _reconcile_daemon(
        self, key: str, service: Mapping[str, Any], mine: list[Mapping[str, Any]]
    ) -> None:
        """DAEMON: one task of the PRIMARY deployment on every ACTIVE, connected instance.

        An update replaces each instance's task in place: the old one is stopped first, then the new
        one started (ECS's DAEMON defaults, maximumPercent 100 / minimumHealthyPercent 0). Tasks on a
        disconnected instance are left alone (edge autonomy); desiredCount follows the instances.
        """
        cluster, name = service["cluster"], service["serviceName"]
        primary = service["deployments"][0]
        instances = [
            i
            for i in await self.tasks.instances.in_cluster(cluster)
            if i["status"] == "ACTIVE" and i["agentConnected"]
        ]
        live = [t for t in mine if t["desiredStatus"] == "RUNNING"]
        events: list[str] = []
        started, stopped = [], []
        for instance in instances:
            here = [t for t in live if t["instanceId"] == instance["instanceId"]]
            outdated = [t for t in here if t.get("startedBy") != primary["id"]]
            await self._stop_for(cluster, outdated, primary["id"])
            stopped += outdated
            if not here and primary["rolloutState"] != "FAILED":
                started += await self.tasks.run(
                    RunRequest(
                        task_definition=primary["taskDefinition"],
                        cluster=cluster,
                        started_by=primary["id"],
                        group=f"service:{name}",
                        instance_ids=(instance["instanceId"],),
                    )
                )
        if started:
            events.append(_started_event(name, started))
        if stopped:
            events.append(_stopped_event(name, stopped))
        new = [t for t in live if t.get("startedBy") == primary["id"]]
        old = [t for t in live if t.get("startedBy") != primary["id"] and t not in stopped]
        await retry_update(
            self.store,
            KIND,
            key,
            lambda body: self._record({**body, "desiredCount": len(instances)}, new, old, events),
        )

    async def _check_breaker(
        self, key: str, service: Mapping[str, Any], mine: list[Mapping[str, Any]]
    ) -> bool:
        """Stage 1 of ECS's circuit breaker: count PRIMARY tasks that stopped before the deployment worked.

        Choice: ECS counts tasks that never reach RUNNING; a container that exits at once may be
        RUNNING for a few milliseconds, which would hide a crash loop. Here a task counts as failed
        when it stops (not stopped by the scheduler or a user) before any task of the deployment has
        been *healthy*; once one has (``breakerSatisfied``), stage 1 ends for good, as in ECS.
        True when the service was changed: the failure count moved, or the deployment FAILED (and,
        with ``rollback``, a new PRIMARY deployment of the last COMPLETED task definition began).
        """
        breaker = service["deploymentConfiguration"].get("deploymentCircuitBreaker") or {}
        primary = service["deployments"][0]
        if (
            not breaker.get("enable")
            or primary["rolloutState"] != "IN_PROGRESS"
            or primary.get("breakerSatisfied")
        ):
            return False
        launched = [t for t in mine if t.get("startedBy") == primary["id"]]
        if any(self._healthy(t) for t in launched):
            await retry_update(self.store, KIND, key, lambda body: _mark_primary(body, breakerSatisfied=True))
            return False  # nothing else changed: this pass goes on (its writes re-read the service)
        failed = sum(
            t["lastStatus"] == "STOPPED" and t.get("stopCode") not in _SCHEDULED_STOPS for t in launched
        )
        if failed == primary["failedTasks"]:
            return False
        name = service["serviceName"]
        tripped = failed >= breaker_threshold(service["desiredCount"])
        events: list[str] = []
        rollback: dict[str, Any] | None = None
        if tripped:
            events.append(
                f"(service {name}) (deployment {primary['id']}) deployment failed: tasks failed to start."
            )
            target = service.get("lastCompletedTaskDefinition")
            if breaker.get("rollback") and target:
                rollback = await self._deployment(target, service["desiredCount"], self.clock().timestamp())
                events.append(f"(service {name}) rolling back to deployment {rollback['id']}.")

        def change(body: Mapping[str, Any]) -> dict[str, Any]:
            current = {**body["deployments"][0], "failedTasks": failed}
            if tripped:
                current.update(
                    rolloutState="FAILED",
                    rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
                    updatedAt=self.clock().timestamp(),
                )
            changed = {**body, "deployments": [current, *body["deployments"][1:]]}
            if rollback is not None:
                changed["deployments"] = [rollback, {**current, "status": "ACTIVE"}, *body["deployments"][1:]]
                changed["taskDefinition"] = rollback["taskDefinition"]
            return self._with_events(changed, events)

        await retry_update(self.store, KIND, key, change)
        return True

    def _with_events(self, body: Mapping[str, Any], events: list[str]) -> dict[str, Any]:
        latest = body["events"][0]["message"] if body["events"] else None
        events = [m for m in events if m != latest]  # a repeated condition is one event, not a stream
        now = self.clock().timestamp()
        stamped = [{"id": f"{now:.6f}-{i}", "createdAt": now, "message": m} for i, m in enumerate(events)]
        return {**body, "events": (list(reversed(stamped)) + list(body["events"]))[:MAX_EVENTS]}

    def _healthy(self, task: Mapping[str, Any]) -> bool:
        if task["lastStatus"] != "RUNNING":
            return False
        started = datetime.fromtimestamp(task["startedAt"], UTC) if task.get("startedAt") else None
        checked = task.get("healthStatus") in ("HEALTHY", "UNHEALTHY")
        return counts_as_healthy(
            running_since=started,
            has_health_check=checked,
            health=task.get("healthStatus", ""),
            now=self.clock(),
            healthy_delay=self.healthy_delay,
        )

    def _least_healthy(self, tasks: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return sorted(
            tasks, key=lambda t: (self._healthy(t), t["lastStatus"] == "RUNNING", t.get("createdAt", 0))
        )

    def _record(
        self,
        body: Mapping[str, Any],
        new: list[Mapping[str, Any]],
        old: list[Mapping[str, Any]],
        events: list[str],
    ) -> dict[str, Any]:
        running = sum(t["lastStatus"] == "RUNNING" for t in new + old)
        pending = len(new) + len(old) - running
        old_ids = {t.get("startedBy") for t in old}
        deployments = [body["deployments"][0], *(d for d in body["deployments"][1:] if d["id"] in old_ids)]
        failed = [
            d for d in body["deployments"][1:] if d.get("rolloutState") == "FAILED" and d["id"] not in old_ids
        ]
        primary = {
            **deployments[0],
            "runningCount": sum(t["lastStatus"] == "RUNNING" for t in new),
            "pendingCount": sum(t["lastStatus"] != "RUNNING" for t in new),
        }
        fleet = Fleet(body["desiredCount"], len(new), sum(map(self._healthy, new)), len(old), 0)
        now = self.clock().timestamp()
        completed_td = body.get("lastCompletedTaskDefinition")
        if steady(fleet, pending=pending, deployments=len(deployments)):
            if primary["rolloutState"] != "COMPLETED":
                events = [
                    *events,
                    f"(service {body['serviceName']}) (deployment {primary['id']}) deployment completed.",
                ]
                primary = {
                    **primary,
                    "rolloutState": "COMPLETED",
                    "rolloutStateReason": "ECS deployment completed.",
                    "updatedAt": now,
                }
            completed_td = primary["taskDefinition"]
            failed = []  # a completed deployment ends the story of the failed one
            last = body["events"][0]["message"] if body["events"] else ""
            if not last.endswith("has reached a steady state."):
                events = [*events, f"(service {body['serviceName']}) has reached a steady state."]
        changed = {
            **body,
            "runningCount": running,
            "pendingCount": pending,
            "deployments": [primary, *deployments[1:], *failed],
            "lastCompletedTaskDefinition": completed_td,
        }
        return self._with_events(changed, events)


_SCHEDULED_STOPS = ("ServiceSchedulerInitiated", "UserInitiated")


def is_steady(service: Mapping[str, Any]) -> bool:
    """A service as ``describe`` shows it is steady: one COMPLETED deployment, all desired tasks running."""
    return (
        len(service["deployments"]) == 1
        and service["deployments"][0].get("rolloutState") == "COMPLETED"
        and service["runningCount"] == service["desiredCount"]
        and service["pendingCount"] == 0
    )


def _task_ids(tasks: list[Mapping[str, Any]]) -> str:
    return ", ".join(f"(task {t['taskArn'].rsplit('/', 1)[-1]})" for t in tasks)


def _started_event(service: str, tasks: list[Mapping[str, Any]]) -> str:
    return f"(service {service}) has started {len(tasks)} tasks: {_task_ids(tasks)}."


def _stopped_event(service: str, tasks: list[Mapping[str, Any]]) -> str:
    return f"(service {service}) has stopped {len(tasks)} running tasks: {_task_ids(tasks)}."


def _deployment_defaults(spec: ServiceSpec) -> dict[str, int]:
    """ECS's defaults: REPLICA 200 % / 100 %, DAEMON 100 % / 0 % (the API's, not the console's 50 %)."""
    if spec.scheduling_strategy.value == "DAEMON":
        return {"maximumPercent": 100, "minimumHealthyPercent": 0}
    return {"maximumPercent": 200, "minimumHealthyPercent": 100}


def _mark_primary(body: Mapping[str, Any], **members: Any) -> dict[str, Any]:
    return {**body, "deployments": [{**body["deployments"][0], **members}, *body["deployments"][1:]]}


def _placement(service: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "strategies": [
            {"type": s["type"], "field": s.get("field", "")} for s in service.get("placementStrategy", [])
        ],
        "constraints": [
            {"type": c["type"], "expression": c.get("expression", "")}
            for c in service.get("placementConstraints", [])
        ],
    }
