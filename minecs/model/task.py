"""Tasks as the controller and the agent both see them: statuses, the assignment, state snapshots.

A ``TaskAssignment`` is what the controller hands an agent (and what tests hand the engine directly):
a registered task definition, overrides, and the desired status. A ``TaskSnapshot`` is what the agent
reports back, numbered by ``seq`` per task so a consumer can drop duplicates and replay after a
reconnect. Both are frozen; the status strings are ECS's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from minecs.model.efs import NfsMount
from minecs.model.taskdef import TaskDefinition


class TaskStatus(StrEnum):
    """Task ``lastStatus`` values, in lifecycle order."""

    PROVISIONING = "PROVISIONING"
    PENDING = "PENDING"
    ACTIVATING = "ACTIVATING"
    RUNNING = "RUNNING"
    DEACTIVATING = "DEACTIVATING"
    STOPPING = "STOPPING"
    DEPROVISIONING = "DEPROVISIONING"
    STOPPED = "STOPPED"


class DesiredStatus(StrEnum):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


PENDING_STATUSES: tuple[str, ...] = (TaskStatus.PROVISIONING, TaskStatus.PENDING, TaskStatus.ACTIVATING)
"""The ``lastStatus`` values ECS counts as pending (``pendingCount``, ``pendingTasksCount``)."""


class KnownStatus(IntEnum):
    """The agent's own container status; ordered, so ``a >= KnownStatus.CREATED`` reads naturally."""

    NONE = 0
    PULLED = 1
    CREATED = 2
    RUNNING = 3
    STOPPED = 4

    @property
    def reported(self) -> str:
        """What ECS shows as the container's lastStatus: RUNNING, STOPPED, or PENDING for the rest."""
        return self.name if self in (KnownStatus.RUNNING, KnownStatus.STOPPED) else "PENDING"


class HealthStatus(StrEnum):
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    UNKNOWN = "UNKNOWN"


class StopCode(StrEnum):
    TASK_FAILED_TO_START = "TaskFailedToStart"
    ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
    USER_INITIATED = "UserInitiated"
    SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"
    SPOT_INTERRUPTION = "SpotInterruption"
    TERMINATION_NOTICE = "TerminationNotice"


ESSENTIAL_EXITED_REASON = "Essential container in task exited"
USER_STOP_REASON = "Task stopped by user"


@dataclass(frozen=True)
class ContainerOverride:
    name: str
    command: tuple[str, ...] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None


def service_of(group: str | None) -> str:
    """The service a task belongs to, from its group (``service:<name>``); "" for a task run on its own."""
    return group.removeprefix("service:") if group and group.startswith("service:") else ""


@dataclass(frozen=True)
class TaskAssignment:
    """One task an agent must make true: what to run, and whether it should run at all."""

    task_arn: str
    cluster: str
    definition: TaskDefinition
    desired_status: DesiredStatus = DesiredStatus.RUNNING
    overrides: tuple[ContainerOverride, ...] = ()
    stop_code: StopCode | None = None
    stopped_reason: str | None = None
    started_by: str | None = None
    group: str | None = None
    nfs_volumes: Mapping[str, NfsMount] = field(default_factory=dict)
    """EFS volume name -> the NFS mount the controller resolved it to (``minecs.controlplane.efs``)."""
    launch_type: str = "EXTERNAL"
    """What the task describes (``EXTERNAL``, ``EC2`` or ``FARGATE``); its metadata says the same."""

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    def override_for(self, name: str) -> ContainerOverride | None:
        return next((o for o in self.overrides if o.name == name), None)


@dataclass(frozen=True)
class NetworkBinding:
    container_port: int
    host_port: int
    protocol: str = "tcp"
    bind_ip: str = "0.0.0.0"


@dataclass(frozen=True)
class ContainerSnapshot:
    name: str
    known_status: KnownStatus
    desired_status: DesiredStatus
    essential: bool
    runtime_id: str | None = None
    docker_name: str | None = None
    image: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    health_status: HealthStatus = HealthStatus.UNKNOWN
    network_bindings: tuple[NetworkBinding, ...] = ()
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    restart_count: int = 0


# The task timestamps ECS reports, in lifecycle order (TaskSnapshot members of the same names).
TASK_TIMES = (
    "pull_started_at",
    "pull_stopped_at",
    "started_at",
    "stopping_at",
    "execution_stopped_at",
    "stopped_at",
)


@dataclass(frozen=True)
class TaskSnapshot:
    """The whole task as the agent knows it, after change number ``seq``."""

    task_arn: str
    seq: int
    last_status: TaskStatus
    desired_status: DesiredStatus
    containers: tuple[ContainerSnapshot, ...]
    health_status: HealthStatus = HealthStatus.UNKNOWN
    stop_code: StopCode | None = None
    stopped_reason: str | None = None
    pull_started_at: datetime | None = None
    pull_stopped_at: datetime | None = None
    started_at: datetime | None = None
    stopping_at: datetime | None = None
    execution_stopped_at: datetime | None = None
    stopped_at: datetime | None = None

    def container(self, name: str) -> ContainerSnapshot:
        return next(c for c in self.containers if c.name == name)
