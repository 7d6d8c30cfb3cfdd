"""Pure deployment arithmetic for rolling updates (ECS deployment controller), as the fact sheet §10 says.

* at most ``floor(desired * maximumPercent / 100)`` tasks may exist (RUNNING, PENDING or STOPPING:
  a task told to stop counts until its agent reports it STOPPED);
* at least ``ceil(desired * minimumHealthyPercent / 100)`` healthy tasks must stay RUNNING;
* a new task counts as healthy when every essential container with a health check is HEALTHY, or,
  when no essential container has one, ``healthy_delay`` (ECS: 40 s, a setting) after it reached RUNNING;
* ``rolling_step`` says how many new tasks to start and how many old ones to stop now. An old task
  stops only while the tasks that stay serving (new ones proven healthy, old ones still serving) are
  at least the minimum: with 100 % an old task goes only once a new one is RUNNING and healthy. An
  old task that serves nothing (never reached RUNNING, or failing its health checks) may always go.
  When neither is possible while the deployment is unfinished (and nothing is still stopping), the
  step is ``stuck`` and the service gets ECS's event message.

Choice: an old task that is RUNNING but not yet *proven* healthy (inside the 40 s, or its health
check still starting) holds the minimum up as if it were healthy. Counting it as unhealthy would let
a quick second update stop every task of the first at once, which is what ECS's minimum forbids.

Launch back-off: ``launch_delay`` (see its docstring for the schedule).

Circuit breaker: the failure threshold is ``clamp(ceil(0.5 * desired), 3, 200)``. Choice: this is the
current API reference (``ServiceDeploymentCircuitBreaker``); the 2023 developer guide said a minimum
of 10, which makes small services on an edge box wait for ten failed launches before rolling back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

STUCK_EVENT = (
    "service ({service}) was unable to stop or start tasks during a deployment because of the service "
    "deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
)
THRESHOLD_MIN, THRESHOLD_MAX = 3, 200
THROTTLE_AFTER = 3
THROTTLE_MAX = timedelta(minutes=15)


def max_tasks(desired: int, maximum_percent: int) -> int:
    return math.floor(desired * maximum_percent / 100)


def min_healthy(desired: int, minimum_healthy_percent: int) -> int:
    return math.ceil(desired * minimum_healthy_percent / 100)


def breaker_threshold(desired: int) -> int:
    return min(max(math.ceil(0.5 * desired), THRESHOLD_MIN), THRESHOLD_MAX)


def launch_delay(failures: int, base: timedelta) -> timedelta | None:
    """ECS's service throttle: the pause before the next launch after ``failures`` failed starts in a row.

    Choice (ECS does not publish its schedule): nothing for fewer than ``THROTTLE_AFTER`` failures,
    then ``base`` doubling per further failure, capped at ECS's 15 minutes.
    """
    if failures < THROTTLE_AFTER:
        return None
    doubled: timedelta = base * 2 ** min(failures - THROTTLE_AFTER, 20)
    return min(doubled, THROTTLE_MAX)


def counts_as_healthy(
    *,
    running_since: datetime | None,
    has_health_check: bool,
    health: str,
    now: datetime,
    healthy_delay: timedelta,
) -> bool:
    if running_since is None:
        return False
    if has_health_check:
        return health == "HEALTHY"
    return now - running_since >= healthy_delay


@dataclass(frozen=True)
class Fleet:
    """One service's tasks, split by deployment: the PRIMARY (new) and every older one (old)."""

    desired: int
    new_total: int
    new_healthy: int
    """New tasks proven healthy (``counts_as_healthy``): only these replace an old one."""
    old_total: int
    old_serving: int
    """Old tasks RUNNING and not failing their health checks: they hold the minimum up."""
    stopping: int = 0
    """Tasks told to stop whose containers may still run: they count toward the maximum, as in ECS."""


@dataclass(frozen=True)
class Step:
    start_new: int
    stop_old: int
    stop_new: int = 0
    stuck: bool = False


def rolling_step(fleet: Fleet, *, minimum_healthy_percent: int, maximum_percent: int) -> Step:
    """What the scheduler may do now to move ``fleet`` toward ``desired`` tasks of the new deployment."""
    desired = fleet.desired
    if fleet.new_total > desired and fleet.old_total == 0:
        return Step(start_new=0, stop_old=0, stop_new=fleet.new_total - desired)
    ceiling = max_tasks(desired, maximum_percent)
    floor = min_healthy(desired, minimum_healthy_percent)
    room = ceiling - (fleet.new_total + fleet.old_total + fleet.stopping)
    start = max(0, min(desired - fleet.new_total, room))
    idle_old = fleet.old_total - fleet.old_serving
    spare = max(0, fleet.new_healthy + fleet.old_serving - floor)
    stop = min(fleet.old_total, idle_old + spare)
    unfinished = fleet.new_total < desired or fleet.old_total > 0
    waiting = fleet.new_total > fleet.new_healthy or fleet.stopping > 0
    stuck = unfinished and start == 0 and stop == 0 and not waiting
    return Step(start_new=start, stop_old=stop, stuck=stuck)


def steady(fleet: Fleet, *, pending: int, deployments: int) -> bool:
    """ECS's steady state: exactly the desired tasks running, none pending, one deployment left."""
    return deployments == 1 and pending == 0 and fleet.old_total == 0 and fleet.new_healthy == fleet.desired
