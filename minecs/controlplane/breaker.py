"""The deployment circuit breaker and the launch back-off: how a service notices failing launches.

Both read the PRIMARY deployment's tasks. The breaker counts tasks that failed before the
deployment worked and, at the threshold, marks the deployment FAILED and (with ``rollback``) makes
the last COMPLETED deployment PRIMARY again. The back-off pauses launches while the deployment's
latest tasks keep stopping before they reach RUNNING (ECS's service throttle).

Choice: ECS's stage 1 counts tasks that never reach RUNNING; a container that exits at once may be
RUNNING for a few milliseconds, which would hide a crash loop. Here a task counts as failed when it
stops (not stopped by the scheduler or a user) before any task of the deployment has been
*healthy*; stage 2's container health-check failures count the same way (the scheduler stopped
them with ``HEALTH_REASON``). Once one task has been healthy (``breakerSatisfied``) the breaker is
done for this deployment, as in ECS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.model.stored import SERVICE_KIND as KIND
from minecs.model.stored import DeploymentBody
from minecs.scheduling.deployments import breaker_threshold, launch_delay
from minecs.scheduling.record import deployment, with_events
from minecs.store import Store, retry_update

HEALTH_REASON = "Task failed container health checks"
SCHEDULED_STOPS = ("ServiceSchedulerInitiated", "UserInitiated")
FAILED_REASON = "ECS deployment circuit breaker: tasks failed to start."

NewDeployment = Callable[[str, int, float], Awaitable[DeploymentBody]]
Healthy = Callable[[Mapping[str, Any]], bool]


class CircuitBreaker:
    def __init__(
        self,
        store: Store,
        new_deployment: NewDeployment,
        healthy: Healthy,
        *,
        launch_backoff: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.new_deployment, self.healthy = store, new_deployment, healthy
        self.launch_backoff, self.clock = launch_backoff, clock

    async def check(self, key: str, service: Mapping[str, Any], mine: list[Mapping[str, Any]]) -> bool:
        """Count the PRIMARY deployment's failed tasks. True when the service was changed: the
        failure count moved, or the deployment FAILED (and, with ``rollback``, a new PRIMARY
        deployment of the last COMPLETED task definition began)."""
        breaker = service["deploymentConfiguration"].get("deploymentCircuitBreaker") or {}
        primary = service["deployments"][0]
        if (
            not breaker.get("enable")
            or primary["rolloutState"] != "IN_PROGRESS"
            or primary.get("breakerSatisfied")
        ):
            return False
        launched = [t for t in mine if t.get("startedBy") == primary["id"]]
        if any(self.healthy(t) for t in launched):
            await retry_update(self.store, KIND, key, lambda body: _mark_primary(body, breakerSatisfied=True))
            return False  # nothing else changed: this pass goes on (its writes re-read the service)
        failed = sum(t["lastStatus"] == "STOPPED" and failed_launch(t) for t in launched)
        if failed == primary["failedTasks"]:
            return False
        tripped = failed >= breaker_threshold(service["desiredCount"])
        rollback = await self._rollback_target(service) if tripped and breaker.get("rollback") else None
        events = _breaker_events(service["serviceName"], primary["id"], tripped, rollback)
        now = self.clock().timestamp()
        await retry_update(
            self.store,
            KIND,
            key,
            lambda body: with_events(after_count(body, failed, tripped, rollback, now), events, now),
        )
        return True

    async def _rollback_target(self, service: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The deployment the breaker rolls back to: the last one that reached COMPLETED, as ECS does.

        It becomes PRIMARY again, IN_PROGRESS, under its own id, so the tasks it still has go on
        serving and count as its own; none is replaced. A service stored before minecs remembered
        that deployment gets a new one of its task definition. None when nothing ever completed."""
        wanted = service.get("lastCompletedDeployment")
        if wanted:
            listed = next((d for d in service["deployments"] if d["id"] == wanted), None)
            return (
                dict(listed)
                if listed
                else {"id": wanted, "taskDefinition": service["lastCompletedTaskDefinition"]}
            )
        completed = service.get("lastCompletedTaskDefinition")
        if completed:
            return await self.new_deployment(completed, service["desiredCount"], self.clock().timestamp())
        return None

    def launch_held(self, primary: Mapping[str, Any], mine: list[Mapping[str, Any]]) -> bool:
        """True while the launch back-off holds: the deployment's latest tasks failed to start."""
        launched = sorted(
            (t for t in mine if t.get("startedBy") == primary["id"]),
            key=lambda t: t.get("createdAt", 0),
            reverse=True,
        )
        failures: list[Mapping[str, Any]] = []
        for task in launched:
            if task.get("startedAt"):
                break  # one that reached RUNNING ends the streak
            if task["lastStatus"] == "STOPPED" and task.get("stopCode") not in SCHEDULED_STOPS:
                failures.append(task)
        delay = launch_delay(len(failures), self.launch_backoff)
        if delay is None:
            return False
        last = max(float(t.get("stoppedAt") or t.get("createdAt") or 0) for t in failures)
        return self.clock().timestamp() < last + delay.total_seconds()


def after_count(
    body: Mapping[str, Any], failed: int, tripped: bool, rollback: Mapping[str, Any] | None, now: float
) -> dict[str, Any]:
    """The service with its PRIMARY's new failure count; FAILED when tripped; rolled back if told."""
    current = {**body["deployments"][0], "failedTasks": failed}
    if tripped:
        current.update(rolloutState="FAILED", rolloutStateReason=FAILED_REASON, updatedAt=now)
    others = list(body["deployments"][1:])
    changed = {**body, "deployments": [current, *others]}
    if rollback is not None:
        promoted = {
            **deployment(rollback["id"], rollback["taskDefinition"], body["desiredCount"], now),
            "createdAt": rollback.get("createdAt", now),
        }
        rest = [d for d in others if d["id"] != rollback["id"]]
        changed["deployments"] = [promoted, {**current, "status": "ACTIVE"}, *rest]
        changed["taskDefinition"] = promoted["taskDefinition"]
    return changed


def _breaker_events(
    service: str, primary: str, tripped: bool, rollback: Mapping[str, Any] | None
) -> list[str]:
    events = []
    if tripped:
        events.append(f"(service {service}) (deployment {primary}) deployment failed: tasks failed to start.")
    if rollback is not None:
        events.append(f"(service {service}) rolling back to deployment {rollback['id']}.")
    return events


def failed_launch(task: Mapping[str, Any]) -> bool:
    """A breaker failure: stopped by itself, or by the scheduler for failing its health checks."""
    return task.get("stopCode") not in SCHEDULED_STOPS or task.get("stoppedReason") == HEALTH_REASON


def _mark_primary(body: Mapping[str, Any], **members: Any) -> dict[str, Any]:
    return {**body, "deployments": [{**body["deployments"][0], **members}, *body["deployments"][1:]]}
