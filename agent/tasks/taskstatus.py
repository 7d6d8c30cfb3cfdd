"""Pure: a task's reported status, health and stop decision, derived from its containers.

``last_status`` (ECS lastStatus):

==============  ===================================================================================
PROVISIONING    task resources (awsvpc network namespace, volumes, ports) are being set up
PENDING         waiting: nothing pulled or created yet
ACTIVATING      images are pulled / containers created and started, not all there yet
RUNNING         every container is RUNNING or already STOPPED, and at least one is RUNNING
STOPPING        the task should stop and some containers are still running
DEPROVISIONING  every container stopped; task resources are being released
STOPPED         every container stopped and the task's resources are gone
==============  ===================================================================================

``task_health`` follows ECS's rule over *essential* containers that have a health check: any
UNHEALTHY wins, then UNKNOWN, and HEALTHY only when all are; with no checked essential container it is
UNKNOWN (the observed ECS behaviour ignores unchecked essential containers, so do we).

``essential_stop``: when an essential container has stopped, the task must stop. If the task never
reached RUNNING and that container never ran and has no exit code (a pull, create or resource
failure), ECS calls it ``TaskFailedToStart`` and the reason is the container's own
(``CannotPullContainerError: ...``); otherwise, including a dependency failure (which the agent
reports as exit code 143), it is ``EssentialContainerExited`` with ``Essential container in task exited``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minecs.model.task import ESSENTIAL_EXITED_REASON, HealthStatus, KnownStatus, StopCode, TaskStatus


@dataclass(frozen=True, slots=True)
class ContainerFacts:
    name: str
    essential: bool
    known: KnownStatus
    in_flight: bool = False
    ever_started: bool = False
    has_health_check: bool = False
    health: HealthStatus = HealthStatus.UNKNOWN
    reason: str | None = None
    exit_code: int | None = None


def last_status(
    containers: Sequence[ContainerFacts], *, stopping: bool, provisioned: bool, resources_left: bool
) -> TaskStatus:
    if all(c.known is KnownStatus.STOPPED and not c.in_flight for c in containers):
        return TaskStatus.DEPROVISIONING if resources_left else TaskStatus.STOPPED
    if stopping:
        return TaskStatus.STOPPING
    if not provisioned:
        return TaskStatus.PROVISIONING
    settled = all(c.known in (KnownStatus.RUNNING, KnownStatus.STOPPED) for c in containers)
    if settled and any(c.known is KnownStatus.RUNNING for c in containers):
        return TaskStatus.RUNNING
    if any(c.in_flight or c.known > KnownStatus.NONE for c in containers):
        return TaskStatus.ACTIVATING
    return TaskStatus.PENDING


def task_health(containers: Sequence[ContainerFacts]) -> HealthStatus:
    checked = [c.health for c in containers if c.essential and c.has_health_check]
    if not checked:
        return HealthStatus.UNKNOWN
    if HealthStatus.UNHEALTHY in checked:
        return HealthStatus.UNHEALTHY
    if HealthStatus.UNKNOWN in checked:
        return HealthStatus.UNKNOWN
    return HealthStatus.HEALTHY


@dataclass(frozen=True, slots=True)
class StopDecision:
    code: StopCode
    reason: str


def essential_stop(containers: Sequence[ContainerFacts], *, task_ran: bool) -> StopDecision | None:
    """The stop the task needs because an essential container stopped; None while none has."""
    for c in containers:
        if c.essential and c.known is KnownStatus.STOPPED and not c.in_flight:
            if not task_ran and not c.ever_started and c.exit_code is None:
                return StopDecision(StopCode.TASK_FAILED_TO_START, c.reason or ESSENTIAL_EXITED_REASON)
            return StopDecision(StopCode.ESSENTIAL_CONTAINER_EXITED, ESSENTIAL_EXITED_REASON)
    return None
