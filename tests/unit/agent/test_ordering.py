"""The ordering table: every condition against every state of the dependency, plus stop order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.tasks.ordering import ContainerView, GiveUp, Start, Wait, decide_start, may_stop
from minecs.model.task import HealthStatus, KnownStatus
from minecs.validation.graph import Edge

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BOUND = timedelta(minutes=10)
T = ContainerView("app", "img")
K = KnownStatus
H = HealthStatus

NEVER = "because dependency will never start"
TIMEOUT = "has timed out."
NOT_OK = "as dependency did not exit successfully."
UNHEALTHY_STOP = "because dependency stopped before it became healthy"
NO_CHECK = "because dependency has no health check"


def d(
    known: KnownStatus,
    *,
    exit_code: int | None = None,
    health: H = H.UNKNOWN,
    started: bool = True,
    desired_stopped: bool = False,
    start_timeout: int | None = None,
    in_flight: bool = False,
    started_ago: float = 1,
) -> ContainerView:
    return ContainerView(
        "db",
        "img",
        known,
        desired_stopped,
        exit_code,
        health,
        NOW - timedelta(seconds=started_ago) if started and known >= K.RUNNING else None,
        start_timeout,
        in_flight,
    )


def decide(condition: str, dependency: ContainerView, *, waiting: float = 1) -> object:
    return decide_start(
        T,
        {"db": dependency, "app": T},
        [Edge("app", "db", condition, "dependsOn")],
        now=NOW,
        waiting_since=NOW - timedelta(seconds=waiting),
        wait_bound=BOUND,
    )


CASES = [
    # condition, dependency state, expected: "start" | "wait" | message fragment of GiveUp
    ("START", d(K.NONE), "wait"),
    ("START", d(K.CREATED), "wait"),
    ("START", d(K.RUNNING), "start"),
    ("START", d(K.STOPPED, exit_code=0), "start"),
    ("START", d(K.STOPPED, exit_code=1), "start"),
    ("START", d(K.NONE, desired_stopped=True), NEVER),
    ("START", d(K.NONE, desired_stopped=True, in_flight=True), "wait"),
    ("START", d(K.STOPPED, started=False, exit_code=143), NEVER),
    ("COMPLETE", d(K.RUNNING), "wait"),
    ("COMPLETE", d(K.STOPPED, exit_code=0), "start"),
    ("COMPLETE", d(K.STOPPED, exit_code=7), "start"),
    ("COMPLETE", d(K.RUNNING, start_timeout=5, started_ago=6), TIMEOUT),
    ("COMPLETE", d(K.RUNNING, start_timeout=5, started_ago=4), "wait"),
    ("SUCCESS", d(K.RUNNING), "wait"),
    ("SUCCESS", d(K.STOPPED, exit_code=0), "start"),
    ("SUCCESS", d(K.STOPPED, exit_code=3), NOT_OK),
    ("SUCCESS", d(K.NONE, desired_stopped=True), NEVER),
    ("SUCCESS", d(K.RUNNING, start_timeout=2, started_ago=3), TIMEOUT),
    ("HEALTHY", d(K.RUNNING), "wait"),
    ("HEALTHY", d(K.RUNNING, health=H.UNHEALTHY), "wait"),
    ("HEALTHY", d(K.RUNNING, health=H.HEALTHY), "start"),
    ("HEALTHY", d(K.STOPPED, exit_code=1), UNHEALTHY_STOP),
    ("HEALTHY", ContainerView("db", "img", K.RUNNING, has_health_check=False), NO_CHECK),
    ("HEALTHY", d(K.RUNNING, start_timeout=10, started_ago=11), TIMEOUT),
    ("HEALTHY", d(K.RUNNING, health=H.HEALTHY, start_timeout=10, started_ago=11), TIMEOUT),
    ("CREATE", d(K.PULLED), "wait"),
    ("CREATE", d(K.CREATED), "start"),
    ("CREATE", d(K.RUNNING), "start"),
]


@pytest.mark.parametrize(
    ("condition", "dependency", "expected"),
    CASES,
    ids=[f"{c}-{d.known.name}-{i}" for i, (c, d, _) in enumerate(CASES)],
)
def test_the_ordering_table(condition: str, dependency: ContainerView, expected: str) -> None:
    decision = decide(condition, dependency)
    if expected == "start":
        assert decision == Start()
    elif expected == "wait":
        assert decision == Wait(("db",))
    else:
        assert isinstance(decision, GiveUp)
        assert decision.reason.endswith(expected)
        assert decision.reason.startswith("dependency graph: ")


def test_messages_name_the_containers_as_the_ecs_agent_prints_them() -> None:
    decision = decide("SUCCESS", d(K.STOPPED, exit_code=3))
    assert decision == GiveUp(
        "dependency graph: failed to resolve container ordering dependency [db(img) (STOPPED->RUNNING) - Exit: 3] "
        "for target [app(img) (NONE->RUNNING)] as dependency did not exit successfully."
    )


def test_start_timeout_does_not_apply_to_start_conditions() -> None:
    assert decide("START", d(K.RUNNING, start_timeout=1, started_ago=100)) == Start()


def test_the_agent_wide_bound_ends_any_wait() -> None:
    decision = decide("HEALTHY", d(K.RUNNING), waiting=601)
    assert isinstance(decision, GiveUp)
    assert decision.reason == (
        "dependency graph: container ordering dependency [db(img) (RUNNING->RUNNING)] "
        "for target [app(img) (NONE->RUNNING)] has timed out."
    )


def test_all_dependencies_must_hold_and_every_blocker_is_named() -> None:
    views = {
        "a": d(K.RUNNING),
        "b": ContainerView("b", known=K.NONE),
        "c": ContainerView("c", known=K.CREATED),
        "app": T,
    }
    edges = [
        Edge("app", "a", "START", "links"),
        Edge("app", "b", "START", "dependsOn"),
        Edge("app", "c", "COMPLETE", "dependsOn"),
        Edge("other", "b", "START", "dependsOn"),
    ]
    views = {**views, "a": ContainerView("a", known=K.RUNNING, started_at=NOW)}
    assert decide_start(T, views, edges, now=NOW, waiting_since=NOW, wait_bound=BOUND) == Wait(("b", "c"))


def test_no_dependencies_means_start() -> None:
    assert decide_start(T, {"app": T}, [], now=NOW, waiting_since=NOW, wait_bound=BOUND) == Start()


def test_stop_waits_for_every_direct_dependent() -> None:
    edges = [
        Edge("app", "db", "START", "dependsOn"),
        Edge("sidecar", "db", "START", "links"),
        Edge("app", "log", "START", "dependsOn"),
    ]
    views = {
        "db": ContainerView("db", known=K.RUNNING),
        "app": ContainerView("app", known=K.RUNNING),
        "sidecar": ContainerView("sidecar", known=K.STOPPED),
        "log": ContainerView("log", known=K.RUNNING),
    }
    assert not may_stop("db", views, edges)
    assert not may_stop("log", views, edges)
    assert may_stop("app", views, edges)
    assert may_stop("sidecar", views, edges)
    stopped = {**views, "app": ContainerView("app", known=K.STOPPED)}
    assert may_stop("db", stopped, edges)
    assert may_stop("log", stopped, edges)


def test_a_dependent_that_never_started_does_not_block_the_stop() -> None:
    views = {"db": ContainerView("db", known=K.RUNNING), "app": ContainerView("app", known=K.NONE)}
    assert may_stop("db", views, [Edge("app", "db", "HEALTHY", "dependsOn")])
