"""Rolling-deployment arithmetic: the ECS examples, the stuck cases, scale-in, health, the breaker."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class World:
    """A rollout as the scheduler sees it pass by pass: tasks it started become healthy one pass
    later; tasks it stopped are still stopping for one pass (they hold their place under the maximum)."""

    desired: int
    old: int
    new_starting: int = 0
    new_healthy: int = 0
    stopping: int = 0

    def fleet(self) -> Fleet:
        new = self.new_starting + self.new_healthy
        return Fleet(self.desired, new, self.new_healthy, self.old, self.old, stopping=self.stopping)

    def serving(self) -> int:
        return self.new_healthy + self.old

    def apply(self, step: Step) -> World:
        return World(
            self.desired,
            self.old - step.stop_old,
            new_starting=step.start_new,
            new_healthy=self.new_healthy + self.new_starting,
            stopping=step.stop_old,
        )


@pytest.mark.parametrize(("minimum", "maximum"), [(0, 100), (50, 200), (100, 200), (100, 150)])
@pytest.mark.parametrize("desired", [1, 2, 3, 4, 5, 10])
def test_every_pass_of_a_rollout_keeps_the_minimum_and_the_maximum(
    desired: int, minimum: int, maximum: int
) -> None:
    """ECS: at most floor(desired * max / 100) tasks RUNNING, PENDING or STOPPING; at least
    ceil(desired * min / 100) healthy; the rollout ends with every task new and none stopping."""
    world, passes = World(desired, old=desired), 0
    if max_tasks(desired, maximum) == desired == min_healthy(desired, minimum):
        # No room above desired and none below: ECS's stuck case (desired 1 at 100/150, like 3 at 125 %).
        assert rolling_step(world.fleet(), minimum_healthy_percent=minimum, maximum_percent=maximum).stuck
        return
    while world != World(desired, old=0, new_healthy=desired):
        step = rolling_step(world.fleet(), minimum_healthy_percent=minimum, maximum_percent=maximum)
        assert not step.stuck, (world, step)
        world = world.apply(step)
        passes += 1
        assert world.old + world.new_starting + world.new_healthy + world.stopping <= max_tasks(
            desired, maximum
        )
        assert world.serving() >= min_healthy(desired, minimum), (world, step)
        assert passes < 50, "the rollout never finished"


@pytest.mark.parametrize(
    ("minimum", "maximum", "first"),
    [
        # minimumHealthyPercent 0: ECS stops the old tasks first, then starts the new ones.
        (0, 100, Step(start_new=0, stop_old=4)),
        # desired 4, min 50 %, max 200 %: start 4 at once, stop the 2 above the minimum.
        (50, 200, Step(start_new=4, stop_old=2)),
        # desired 4, max 200 %: "may start 4 new before stopping 4 old".
        (100, 200, Step(start_new=4, stop_old=0)),
        # desired 4, max 150 %: 2 new first; no old task may go while none of them is healthy.
        (100, 150, Step(start_new=2, stop_old=0)),
    ],
)
def test_the_first_pass_of_a_rollout_of_four(minimum: int, maximum: int, first: Step) -> None:
    fleet = Fleet(4, 0, 0, 4, 4)
    assert rolling_step(fleet, minimum_healthy_percent=minimum, maximum_percent=maximum) == first


def test_old_tasks_not_yet_proven_healthy_are_not_stopped_for_unproven_new_ones() -> None:
    """The issue-15 defect: a second update inside the 40 s stopped every task of the first at once.
    Old tasks RUNNING but not yet counted healthy still serve; only healthy new tasks replace them."""
    unproven_old = Fleet(3, 3, 0, 3, 3)
    assert rolling_step(unproven_old, minimum_healthy_percent=100, maximum_percent=200) == Step(0, 0)
    proven_new = Fleet(3, 3, 3, 3, 3)
    assert rolling_step(proven_new, minimum_healthy_percent=100, maximum_percent=200) == Step(0, 3)
    # Old tasks that never reached RUNNING (or fail their checks) serve nothing and may go at once.
    idle_old = Fleet(3, 3, 0, 3, 0)
    assert rolling_step(idle_old, minimum_healthy_percent=100, maximum_percent=200) == Step(0, 3)


def test_tasks_still_stopping_make_a_rollout_wait_not_stuck() -> None:
    fleet = Fleet(2, 0, 0, 1, 1, stopping=1)
    assert rolling_step(fleet, minimum_healthy_percent=50, maximum_percent=100) == Step(0, 0, stuck=False)


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
