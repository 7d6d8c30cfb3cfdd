"""The engine's mutable bookkeeping for one container, and how observations update it.

Only the task runner that owns a ``ContainerRecord`` writes to it, always on the event loop, so no
lock is needed. ``observe`` folds a fresh ``docker inspect`` into the record; it is idempotent, so an
event, the start chain's own inspect and the periodic resync may all report the same fact.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import datetime

from agent.runtime.base import ContainerInfo, Health, RunState
from agent.tasks.ordering import ContainerView
from agent.tasks.taskstatus import ContainerFacts
from minecs.model.task import (
    ContainerSnapshot,
    DesiredStatus,
    HealthStatus,
    KnownStatus,
    NetworkBinding,
)
from minecs.model.taskdef import ContainerDefinition

MAX_REASON = 255
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
VANISHED_REASON = "ContainerVanishedError: No container matching saved ID found"

_HEALTH = {Health.HEALTHY: HealthStatus.HEALTHY, Health.UNHEALTHY: HealthStatus.UNHEALTHY}


def reason(error_name: str, message: str) -> str:
    """``<ErrorName>: <message>`` cut to ECS's 255 characters."""
    return f"{error_name}: {message}"[:MAX_REASON]


# Docker's words when the local driver cannot mount a volume (an NFS server away, no NFS client).
_MOUNT_FAILED = re.compile(
    r"error while mounting volume '(?P<path>[^']+)': failed to mount local volume: "
    r"mount (?P<device>.*):(?P=path), flags: [^,]*, data: (?P<data>.*): (?P<cause>[^:]+)$"
)


def start_failure(message: str) -> str:
    """Why a container did not start: Docker's message, but for a volume that could not be mounted a
    short one that keeps the cause. Docker names the volume's path twice and its cause last, where
    ECS's 255-character cut would drop it."""
    found = _MOUNT_FAILED.search(message)
    if found is None:
        return message
    volume = posixpath.basename(posixpath.dirname(found["path"]))
    return f"cannot mount volume {volume} ({found['device']}, {found['data']}): {found['cause'].strip()}"


@dataclass
class ContainerRecord:
    definition: ContainerDefinition
    docker_name: str
    known: KnownStatus = KnownStatus.NONE
    desired_stopped: bool = False
    in_flight: bool = False
    runtime_id: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    health: HealthStatus = HealthStatus.UNKNOWN
    bindings: tuple[NetworkBinding, ...] = ()
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    restart_count: int = 0
    last_restart_at: datetime | None = None
    pid: int = 0
    """The running container's main process on this host (its cgroup and netns, for metrics); 0 when none."""

    @property
    def name(self) -> str:
        return self.definition.name or ""

    def view(self) -> ContainerView:
        return ContainerView(
            name=self.name,
            image=self.definition.image or "",
            known=self.known,
            desired_stopped=self.desired_stopped,
            exit_code=self.exit_code,
            health=self.health,
            started_at=self.started_at,
            start_timeout=self.definition.start_timeout,
            in_flight=self.in_flight,
            has_health_check=self.definition.health_check is not None,
        )

    def facts(self) -> ContainerFacts:
        return ContainerFacts(
            name=self.name,
            essential=self.definition.essential,
            known=self.known,
            in_flight=self.in_flight,
            ever_started=self.started_at is not None,
            has_health_check=self.definition.health_check is not None,
            health=self.health,
            reason=self.reason,
            exit_code=self.exit_code,
        )

    def snapshot(self) -> ContainerSnapshot:
        return ContainerSnapshot(
            name=self.name,
            known_status=self.known,
            desired_status=DesiredStatus.STOPPED if self.desired_stopped else DesiredStatus.RUNNING,
            essential=self.definition.essential,
            runtime_id=self.runtime_id,
            docker_name=self.docker_name,
            image=self.definition.image,
            exit_code=self.exit_code,
            reason=self.reason,
            health_status=self.health,
            network_bindings=self.bindings,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            restart_count=self.restart_count,
        )

    def fail(self, why: str, *, exit_code: int | None = None, now: datetime) -> None:
        """The container will never run (or run again): STOPPED with ``why`` as its reason."""
        self.known = KnownStatus.STOPPED
        self.pid = 0
        self.desired_stopped = True
        self.reason = why[:MAX_REASON]
        self.exit_code = exit_code if exit_code is not None else self.exit_code
        self.finished_at = self.finished_at or now

    def agrees(self, state: RunState, health: Health) -> bool:
        """Whether a container list's view (state, health) matches this record; else re-inspect."""
        if state in (RunState.EXITED, RunState.DEAD):
            return self.known is KnownStatus.STOPPED
        if state in (RunState.RUNNING, RunState.PAUSED, RunState.RESTARTING):
            return self.known is KnownStatus.RUNNING and self.health is _HEALTH.get(
                health, HealthStatus.UNKNOWN
            )
        return self.known is KnownStatus.CREATED and state is RunState.CREATED

    def observe_running(self, info: ContainerInfo) -> None:
        self.runtime_id = info.id
        self.pid = info.pid
        self.known = KnownStatus.RUNNING
        self.started_at = info.started_at or self.started_at
        self.health = _HEALTH.get(info.health, HealthStatus.UNKNOWN)
        self.exit_code = None

    def observe_created(self, info: ContainerInfo) -> None:
        self.runtime_id = info.id
        self.known = max(self.known, KnownStatus.CREATED)

    def observe_exited(self, info: ContainerInfo, now: datetime) -> None:
        self.runtime_id = info.id
        self.pid = 0
        self.known = KnownStatus.STOPPED
        self.desired_stopped = True
        self.exit_code = info.exit_code
        self.started_at = info.started_at or self.started_at
        self.finished_at = info.finished_at or now
        if info.oom_killed:
            self.reason = OOM_REASON

    def observe_vanished(self, now: datetime) -> None:
        if self.known is not KnownStatus.STOPPED:
            self.fail(VANISHED_REASON, now=now)


def is_exited(info: ContainerInfo) -> bool:
    return info.state in (RunState.EXITED, RunState.DEAD)
