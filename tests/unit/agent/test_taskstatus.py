"""Task lastStatus, task health and the essential stop, derived from container facts."""

from __future__ import annotations

import pytest

from agent.tasks.taskstatus import ContainerFacts, StopDecision, essential_stop, last_status, task_health
from minecs.model.task import HealthStatus, KnownStatus, StopCode, TaskStatus

K, H = KnownStatus, HealthStatus


def f(
    name: str,
    known: KnownStatus,
    *,
    essential: bool = True,
    in_flight: bool = False,
    started: bool = False,
    check: bool = False,
    health: HealthStatus = HealthStatus.UNKNOWN,
    reason: str | None = None,
    exit_code: int | None = None,
) -> ContainerFacts:
    return ContainerFacts(name, essential, known, in_flight, started, check, health, reason, exit_code)


@pytest.mark.parametrize(
    ("containers", "flags", "expected"),
    [
        ([f("a", K.NONE)], {"provisioned": False}, TaskStatus.PROVISIONING),
        ([f("a", K.NONE)], {}, TaskStatus.PENDING),
        ([f("a", K.NONE, in_flight=True)], {}, TaskStatus.ACTIVATING),
        ([f("a", K.RUNNING), f("b", K.CREATED)], {}, TaskStatus.ACTIVATING),
        ([f("a", K.RUNNING), f("b", K.NONE)], {}, TaskStatus.ACTIVATING),
        ([f("a", K.RUNNING), f("init", K.STOPPED, essential=False)], {}, TaskStatus.RUNNING),
        ([f("a", K.RUNNING)], {"stopping": True}, TaskStatus.STOPPING),
        ([f("a", K.STOPPED)], {"stopping": True, "resources_left": True}, TaskStatus.DEPROVISIONING),
        ([f("a", K.STOPPED)], {"stopping": True}, TaskStatus.STOPPED),
        ([f("a", K.STOPPED, in_flight=True)], {"stopping": True}, TaskStatus.STOPPING),
    ],
)
def test_last_status(containers: list[ContainerFacts], flags: dict[str, bool], expected: TaskStatus) -> None:
    args = {"stopping": False, "provisioned": True, "resources_left": False, **flags}
    assert last_status(containers, **args) is expected


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        ([f("a", K.RUNNING)], H.UNKNOWN),
        ([f("a", K.RUNNING, check=True, health=H.HEALTHY), f("b", K.RUNNING)], H.HEALTHY),
        ([f("a", K.RUNNING, check=True, health=H.HEALTHY), f("b", K.RUNNING, check=True)], H.UNKNOWN),
        ([f("a", K.RUNNING, check=True, health=H.UNHEALTHY), f("b", K.RUNNING, check=True)], H.UNHEALTHY),
        (
            [
                f("a", K.RUNNING, check=True, health=H.HEALTHY),
                f("x", K.RUNNING, essential=False, check=True, health=H.UNHEALTHY),
            ],
            H.HEALTHY,
        ),
    ],
)
def test_task_health_follows_essential_checked_containers(
    containers: list[ContainerFacts], expected: HealthStatus
) -> None:
    assert task_health(containers) is expected


def test_essential_stop() -> None:
    assert essential_stop([f("a", K.RUNNING), f("side", K.STOPPED, essential=False)], task_ran=True) is None
    assert essential_stop([f("a", K.STOPPED, started=True, exit_code=0)], task_ran=True) == StopDecision(
        StopCode.ESSENTIAL_CONTAINER_EXITED, "Essential container in task exited"
    )
    pull = "CannotPullContainerError: pull x: no such image"
    assert essential_stop([f("a", K.STOPPED, reason=pull)], task_ran=False) == StopDecision(
        StopCode.TASK_FAILED_TO_START, pull
    )
    assert essential_stop(
        [f("a", K.STOPPED, reason="CannotStartContainerError: dep", exit_code=143)], task_ran=False
    ) == StopDecision(StopCode.ESSENTIAL_CONTAINER_EXITED, "Essential container in task exited")
    assert essential_stop([f("a", K.STOPPED, in_flight=True)], task_ran=True) is None
