"""Rolling-deployment arithmetic: the ECS examples, the stuck cases, scale-in, health, the breaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minecs.scheduling.deployments import (
    STUCK_EVENT,
    Fleet,
    Step,
    breaker_threshold,
    counts_as_healthy,
    launch_delay,
    max_tasks,
    min_healthy,
    rolling_step,
    steady,
)


@pytest.mark.parametrize(
    ("desired", "maximum", "minimum", "ceiling", "floor"),
    [
        (4, 200, 100, 8, 4),
        (4, 150, 50, 6, 2),
        (2, 100, 75, 2, 2),
        (3, 125, 100, 3, 3),
        (0, 200, 100, 0, 0),
        (5, 100, 50, 5, 3),
    ],
)
def test_limits_round_as_ecs(desired: int, maximum: int, minimum: int, ceiling: int, floor: int) -> None:
    assert (max_tasks(desired, maximum), min_healthy(desired, minimum)) == (ceiling, floor)


@pytest.mark.parametrize(
    ("fleet", "minimum", "maximum", "expected"),
    [
        # ECS: desired 4, min 50% -> may stop 2 old before starting 2 new.
        (Fleet(4, 0, 0, 4, 4), 50, 100, Step(start_new=0, stop_old=2)),
        (Fleet(4, 0, 0, 2, 2), 50, 100, Step(start_new=2, stop_old=0)),
        # ECS: desired 4, max 200% -> may start 4 new before stopping 4 old.
        (Fleet(4, 0, 0, 4, 4), 100, 200, Step(start_new=4, stop_old=0)),
        (Fleet(4, 4, 4, 4, 4), 100, 200, Step(start_new=0, stop_old=4)),
        # desired 4, max 150%, min 50% (the rollout test)
        (Fleet(4, 0, 0, 4, 4), 50, 150, Step(start_new=2, stop_old=2)),
        (Fleet(4, 2, 0, 2, 2), 50, 150, Step(start_new=2, stop_old=0)),
        (Fleet(4, 4, 2, 2, 2), 50, 150, Step(start_new=0, stop_old=2)),
        # unhealthy old tasks never hold the minimum up
        (Fleet(2, 0, 0, 2, 0), 100, 100, Step(start_new=0, stop_old=2)),
        # ECS: desired 2, min 75% -> can't stop any; desired 3, max 125% -> can't start any
        (Fleet(2, 0, 0, 2, 2), 75, 100, Step(start_new=0, stop_old=0, stuck=True)),
        (Fleet(3, 0, 0, 3, 3), 100, 125, Step(start_new=0, stop_old=0, stuck=True)),
        # new tasks still becoming healthy: waiting, not stuck
        (Fleet(2, 2, 0, 2, 2), 100, 200, Step(start_new=0, stop_old=0)),
        # scale-in and a settled service
        (Fleet(2, 5, 5, 0, 0), 100, 200, Step(start_new=0, stop_old=0, stop_new=3)),
        (Fleet(3, 3, 3, 0, 0), 100, 200, Step(start_new=0, stop_old=0)),
        (Fleet(3, 1, 1, 0, 0), 100, 200, Step(start_new=2, stop_old=0)),
        (Fleet(0, 0, 0, 0, 0), 100, 200, Step(start_new=0, stop_old=0)),
        # tasks still stopping hold their place under the maximum (ECS counts STOPPING)
        (Fleet(4, 0, 0, 2, 2, stopping=2), 50, 150, Step(start_new=2, stop_old=0)),
        (Fleet(4, 2, 0, 2, 2, stopping=2), 50, 150, Step(start_new=0, stop_old=0)),
        (Fleet(4, 4, 4, 0, 0, stopping=2), 50, 150, Step(start_new=0, stop_old=0)),
    ],
)
def test_rolling_steps(fleet: Fleet, minimum: int, maximum: int, expected: Step) -> None:
    assert rolling_step(fleet, minimum_healthy_percent=minimum, maximum_percent=maximum) == expected


def test_a_whole_rollout_stays_within_the_limits() -> None:
    """Simulate 4 tasks, max 150 %, min 50 %: every state respects both limits and the rollout ends."""
    fleet = Fleet(4, 0, 0, 4, 4)
    for _ in range(10):
        step = rolling_step(fleet, minimum_healthy_percent=50, maximum_percent=150)
        old = fleet.old_total - step.stop_old
        new = fleet.new_total + step.start_new
        assert new + old <= max_tasks(4, 150)
        assert fleet.new_healthy + fleet.old_healthy - step.stop_old >= min_healthy(4, 50)
        fleet = Fleet(4, new, new, old, old)  # the new tasks turn healthy before the next step
        if steady(fleet, pending=0, deployments=1):
            break
    assert fleet == Fleet(4, 4, 4, 0, 0)


def test_health_rule_for_new_tasks() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    delay = timedelta(seconds=40)
    assert counts_as_healthy(
        running_since=now - timedelta(seconds=41),
        has_health_check=False,
        health="UNKNOWN",
        now=now,
        healthy_delay=delay,
    )
    assert not counts_as_healthy(
        running_since=now - timedelta(seconds=39),
        has_health_check=False,
        health="UNKNOWN",
        now=now,
        healthy_delay=delay,
    )
    assert counts_as_healthy(
        running_since=now, has_health_check=True, health="HEALTHY", now=now, healthy_delay=delay
    )
    assert not counts_as_healthy(
        running_since=now - timedelta(hours=1),
        has_health_check=True,
        health="UNHEALTHY",
        now=now,
        healthy_delay=delay,
    )
    assert not counts_as_healthy(
        running_since=None, has_health_check=False, health="HEALTHY", now=now, healthy_delay=delay
    )


@pytest.mark.parametrize(("desired", "threshold"), [(1, 3), (4, 3), (7, 4), (25, 13), (400, 200), (800, 200)])
def test_circuit_breaker_threshold(desired: int, threshold: int) -> None:
    assert breaker_threshold(desired) == threshold


def test_steady_state_and_the_stuck_event() -> None:
    assert steady(Fleet(2, 2, 2, 0, 0), pending=0, deployments=1)
    assert not steady(Fleet(2, 2, 2, 0, 0), pending=1, deployments=1)
    assert not steady(Fleet(2, 2, 1, 0, 0), pending=0, deployments=1)
    assert not steady(Fleet(2, 2, 2, 1, 1), pending=0, deployments=2)
    assert STUCK_EVENT.format(service="web").startswith(
        "service (web) was unable to stop or start tasks during a deployment"
    )


def test_launch_delay_starts_after_three_failures_doubles_and_caps_at_fifteen_minutes() -> None:
    base = timedelta(seconds=10)
    assert [launch_delay(n, base) for n in range(3)] == [None, None, None]
    assert [launch_delay(n, base) for n in (3, 4, 5)] == [
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=40),
    ]
    assert launch_delay(12, base) == timedelta(minutes=15)
    assert launch_delay(10_000, base) == timedelta(minutes=15)
