"""The service scheduler: one reconcile pass of one service, from stored tasks to actions and events.

A pass reads the service and its tasks (``group`` = ``service:<name>``, ``startedBy`` = deployment id)
and, in this order:

1. **DRAINING** (DeleteService): stop every task; once none is left running the service is INACTIVE.
2. **Circuit breaker** (``breaker.py``): count failed launches of the PRIMARY deployment; at the
   threshold the deployment FAILED and, with ``rollback``, the last deployment that reached
   COMPLETED becomes PRIMARY again (its tasks keep serving). Without rollback a FAILED deployment
   launches nothing and stops nothing. A pass that changes the breaker ends there; the next works
   from it.
3. **Unhealthy tasks**: a RUNNING task whose health is UNHEALTHY is stopped with ECS's reason
   ``Task failed container health checks`` (event ``(service X) (task Y) failed container health
   checks.``) and counts as a breaker failure (stage 2); its replacement starts in the same pass.
4. **Tasks**: REPLICA applies ``rolling_step`` (start new, stop old, scale in); DAEMON keeps one task
   of the PRIMARY deployment per connected instance. Launches wait while the launch back-off holds.
5. **Record** counts, deployments, rolloutState and the steady-state events (``scheduling.record``).

Launches are bounded by placement: a pass stops launching at the first task that finds no room,
and launches nothing while one of the service's tasks still waits for room (with ECS's event ``was
unable to place a task because no container instance met all of its requirements.``), so a huge
desiredCount on a small host costs one waiting task, not thousands.

Launch back-off (ECS's service throttle): when the PRIMARY deployment's latest tasks keep stopping
before reaching RUNNING, launches pause (``launch_delay``) and the service gets ``is unable to
consistently start tasks successfully.``; a new deployment starts the count afresh, as a new task
definition does in ECS. Tasks that reached RUNNING and then exited do not count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.controlplane.breaker import HEALTH_REASON, CircuitBreaker, NewDeployment
from minecs.controlplane.requests import RunRequest, decode_placement
from minecs.controlplane.tasks import Tasks
from minecs.model.stored import SERVICE_KIND as KIND
from minecs.model.task import StopCode
from minecs.scheduling.deployments import STUCK_EVENT, Fleet, Step, counts_as_healthy, rolling_step
from minecs.scheduling.launch import request_of
from minecs.scheduling.record import (
    Split,
    record,
    started_event,
    stopped_event,
    task_id,
    with_events,
)
from minecs.store import Store, retry_update


class ServiceScheduler:
    def __init__(
        self,
        store: Store,
        tasks: Tasks,
        new_deployment: NewDeployment,
        *,
        healthy_delay: timedelta,
        launch_backoff: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.tasks = store, tasks
        self.healthy_delay = healthy_delay
        self.clock = clock
        # The breaker reads the scheduler's clock, so a clock set on the scheduler is the breaker's too.
        self.breaker = CircuitBreaker(
            store, new_deployment, self._healthy, launch_backoff=launch_backoff, clock=self._now
        )

    async def reconcile(self, key: str) -> None:
        stored = await self.store.get(KIND, key)
        if stored is None or stored.body["status"] == "INACTIVE":
            return
        service = stored.body
        cluster, name = service["cluster"], service["serviceName"]
        mine = [t for t in await self.tasks.in_cluster(cluster) if t.get("group") == f"service:{name}"]
        if service["status"] == "DRAINING":
            await self._drain(key, service, mine)
            return
        if await self.breaker.check(key, service, mine):
            return  # the service changed (failed, maybe rolled back); the next pass works from that
        live = [t for t in mine if t["desiredStatus"] == "RUNNING"]
        sick = [t for t in live if t["lastStatus"] == "RUNNING" and t.get("healthStatus") == "UNHEALTHY"]
        events: list[str] = []
        if sick:
            await self._stop(cluster, sick, HEALTH_REASON)
            events += [f"(service {name}) (task {task_id(t)}) failed container health checks." for t in sick]
            events.append(stopped_event(name, sick))
            live = [t for t in live if t not in sick]
        held = self.breaker.launch_held(service["deployments"][0], mine)
        if held:
            events.append(f"(service {name}) is unable to consistently start tasks successfully.")
        # Told to stop, not stopped yet: they still run (runningCount) and hold their place (maximum).
        stopping = [t for t in mine if t["desiredStatus"] == "STOPPED" and t["lastStatus"] != "STOPPED"]
        if service.get("schedulingStrategy") == "DAEMON":
            await self._reconcile_daemon(key, service, live, events, held=held, stopping=stopping)
        else:
            await self._reconcile_replica(key, service, live, events, held=held, stopping=stopping)

    # ------------------------------------------------------------------ REPLICA and DAEMON
    async def _reconcile_replica(
        self,
        key: str,
        service: Mapping[str, Any],
        live: list[Mapping[str, Any]],
        events: list[str],
        *,
        held: bool,
        stopping: list[Mapping[str, Any]],
    ) -> None:
        cluster, name = service["cluster"], service["serviceName"]
        primary = service["deployments"][0]
        # Tasks on a DRAINING (or deregistered) instance are replaced like an old deployment's: new
        # ones start elsewhere first, within maximumPercent, and they stop within minimumHealthyPercent.
        leaving = {
            i["instanceId"] for i in await self.tasks.instances.in_cluster(cluster) if i["status"] != "ACTIVE"
        }
        new = [t for t in live if t.get("startedBy") == primary["id"] and t["instanceId"] not in leaving]
        old = [t for t in live if t not in new]
        step = self._step(service, new, old, stopping, held=held)
        unplaced = [t for t in new if not t["instanceId"]]
        if unplaced:
            events.append(_unplaced_event(name, unplaced[0]))
        if step.start_new:
            started = await self._launch(service, live, count=step.start_new)
            events.append(started_event(name, started))
        victims = self._least_healthy(old)[: step.stop_old] + self._least_healthy(new)[: step.stop_new]
        await self._stop(cluster, victims, _scaling(primary))
        if victims:
            events.append(stopped_event(name, victims))
        if step.stuck:
            events.append(STUCK_EVENT.format(service=name))
        await retry_update(self.store, KIND, key, lambda body: self._record(body, new, old, stopping, events))

    async def _reconcile_daemon(
        self,
        key: str,
        service: Mapping[str, Any],
        live: list[Mapping[str, Any]],
        events: list[str],
        *,
        held: bool,
        stopping: list[Mapping[str, Any]],
    ) -> None:
        """DAEMON: one task of the PRIMARY deployment on every ACTIVE, connected instance.

        An update replaces each instance's task in place: the old one is stopped first, then the new
        one started (ECS's DAEMON defaults, maximumPercent 100 / minimumHealthyPercent 0). Tasks on a
        disconnected instance are left alone (edge autonomy); desiredCount follows the instances.
        """
        cluster, name = service["cluster"], service["serviceName"]
        primary = service["deployments"][0]
        every = await self.tasks.instances.in_cluster(cluster)
        instances = [i for i in every if i["status"] == "ACTIVE" and i["agentConnected"]]
        leaving = {i["instanceId"] for i in every if i["status"] != "ACTIVE"}
        started: list[Mapping[str, Any]] = []
        # A DRAINING or deregistered instance keeps no daemon task.
        stopped = [t for t in live if t["instanceId"] in leaving]
        await self._stop(cluster, stopped, _scaling(primary))
        for instance in instances:
            here = [t for t in live if t["instanceId"] == instance["instanceId"]]
            outdated = [t for t in here if t.get("startedBy") != primary["id"]]
            await self._stop(cluster, outdated, _scaling(primary))
            stopped += outdated
            if not here and primary["rolloutState"] != "FAILED" and not held:
                started += await self._launch(service, live, instance_ids=(instance["instanceId"],))
        if started:
            events.append(started_event(name, started))
        if stopped:
            events.append(stopped_event(name, stopped))
        new = [t for t in live if t.get("startedBy") == primary["id"]]
        old = [t for t in live if t.get("startedBy") != primary["id"] and t not in stopped]
        new = [t for t in new if t not in stopped]
        await retry_update(
            self.store,
            KIND,
            key,
            lambda body: self._record({**body, "desiredCount": len(instances)}, new, old, stopping, events),
        )

    def _step(
        self,
        service: Mapping[str, Any],
        new: list[Mapping[str, Any]],
        old: list[Mapping[str, Any]],
        stopping: list[Mapping[str, Any]],
        *,
        held: bool,
    ) -> Step:
        """This pass's rolling step: none for a FAILED deployment, no launches while held or waiting."""
        if service["deployments"][0]["rolloutState"] == "FAILED":
            return Step(start_new=0, stop_old=0, stop_new=0)  # a failed deployment launches nothing more
        fleet = Fleet(
            service["desiredCount"],
            len(new),
            sum(map(self._healthy, new)),
            len(old),
            sum(map(_serving, old)),
            stopping=len(stopping),
        )
        config = service["deploymentConfiguration"]
        step = rolling_step(
            fleet,
            minimum_healthy_percent=config["minimumHealthyPercent"],
            maximum_percent=config["maximumPercent"],
        )
        if held or any(not t["instanceId"] for t in new):
            step = replace(step, start_new=0, stuck=False)
        return step

    async def _launch(
        self,
        service: Mapping[str, Any],
        live: list[Mapping[str, Any]],
        *,
        count: int = 1,
        instance_ids: tuple[str, ...] = (),
    ) -> list[Mapping[str, Any]]:
        """Start tasks of the PRIMARY deployment, with the service's placement and launch type. A
        REPLICA launch stops at the first task that finds no room; a DAEMON's is pinned."""
        primary = service["deployments"][0]
        strategies, constraints = decode_placement(_placement(service))
        request = RunRequest(
            task_definition=primary["taskDefinition"],
            cluster=service["cluster"],
            count=count,
            started_by=primary["id"],
            group=f"service:{service['serviceName']}",
            enable_execute_command=bool(service.get("enableExecuteCommand")),
            strategies=() if instance_ids else tuple(strategies),
            constraints=() if instance_ids else tuple(constraints),
            instance_ids=instance_ids,
            launch=request_of(service),
            provider_counts=_provider_counts(live),
        )
        return await self.tasks.run(request, until_unplaced=not instance_ids)

    async def _drain(self, key: str, service: Mapping[str, Any], mine: list[Mapping[str, Any]]) -> None:
        """DeleteService: stop every task; the service is INACTIVE once none of them still runs."""
        live = [t for t in mine if t["desiredStatus"] == "RUNNING"]
        await self._stop(service["cluster"], live, _scaling(service["deployments"][0]))
        events = [stopped_event(service["serviceName"], live)] if live else []
        # Read again: a task that was never placed is STOPPED the moment it is stopped.
        group = f"service:{service['serviceName']}"
        remaining = [
            t
            for t in await self.tasks.in_cluster(service["cluster"])
            if t.get("group") == group and t["lastStatus"] != "STOPPED"
        ]

        def change(body: Mapping[str, Any]) -> dict[str, Any]:
            changed = {
                **body,
                "runningCount": sum(t["lastStatus"] == "RUNNING" for t in remaining),
                "pendingCount": sum(t["lastStatus"] != "RUNNING" for t in remaining),
            }
            if not remaining:
                changed["status"] = "INACTIVE"
            return self._with_events(changed, events)

        await retry_update(self.store, KIND, key, change)

    async def _stop(self, cluster: str, tasks: list[Mapping[str, Any]], reason: str) -> None:
        """Stop tasks on the scheduler's behalf, with ECS's stop code."""
        for task in tasks:
            await self.tasks.stop(cluster, task["taskArn"], reason, StopCode.SERVICE_SCHEDULER_INITIATED)

    # ------------------------------------------------------------------ health and the record
    def _healthy(self, task: Mapping[str, Any]) -> bool:
        if task["lastStatus"] != "RUNNING":
            return False
        started = datetime.fromtimestamp(task["startedAt"], UTC) if task.get("startedAt") else None
        # Tasks stored before ``hasHealthCheck`` existed are judged by what their agent reported.
        checked = task.get("hasHealthCheck", task.get("healthStatus") in ("HEALTHY", "UNHEALTHY"))
        return counts_as_healthy(
            running_since=started,
            has_health_check=checked,
            health=task.get("healthStatus", ""),
            now=self.clock(),
            healthy_delay=self.healthy_delay,
        )

    def _now(self) -> datetime:
        return self.clock()

    def _least_healthy(self, tasks: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Who goes first: what serves nothing, then what is not proven healthy yet, oldest first."""
        return sorted(tasks, key=lambda t: (self._healthy(t), _serving(t), t.get("createdAt", 0)))

    def _with_events(self, body: Mapping[str, Any], events: list[str]) -> dict[str, Any]:
        return with_events(body, events, self.clock().timestamp())

    def _record(
        self,
        body: Mapping[str, Any],
        new: list[Mapping[str, Any]],
        old: list[Mapping[str, Any]],
        stopping: list[Mapping[str, Any]],
        events: list[str],
    ) -> dict[str, Any]:
        return record(
            body, Split(new, old, stopping), events, healthy=self._healthy, now=self.clock().timestamp()
        )


def _unplaced_event(service: str, task: Mapping[str, Any]) -> str:
    """ECS's event when a service's task finds no instance (ECS names the closest instance; we give
    the placement reason)."""
    reason = str(task.get("placementReason") or "").removeprefix(
        "No Container Instances met all of its requirements: "
    )
    return (
        f"(service {service}) was unable to place a task because no container instance met all of its "
        f"requirements. Reason: {reason}"
    )


def _serving(task: Mapping[str, Any]) -> bool:
    """RUNNING and not failing its health checks: an old task that still holds the minimum up."""
    return task["lastStatus"] == "RUNNING" and task.get("healthStatus") != "UNHEALTHY"


def _scaling(deployment: Mapping[str, Any]) -> str:
    return f"Scaling activity initiated by (deployment {deployment['id']})"


def _provider_counts(tasks: list[Mapping[str, Any]]) -> tuple[tuple[str, int], ...]:
    """How many of a service's live tasks each capacity provider has (for ``base`` and ``weight``)."""
    counts = Counter(t["capacityProviderName"] for t in tasks if t.get("capacityProviderName"))
    return tuple(sorted(counts.items()))


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
