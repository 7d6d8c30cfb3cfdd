"""Pure ordering rules: which containers of a task may start now, which must give up, which may stop.

Inputs are plain snapshots (``ContainerView``) and the task's dependency edges
(``minecs.validation.graph.edges``: dependsOn, links as START, volumesFrom as CREATE). There is no
Docker and no clock here: ``now`` is passed in. The rules, for a target T that depends on D:

=========  ===========================================  ============================================
condition  satisfied when                               terminal (T can never start) when
=========  ===========================================  ============================================
START      D RUNNING, or D STOPPED after it started     D will never start
COMPLETE   D STOPPED with an exit code                  D will never start; D's startTimeout expired
SUCCESS    D STOPPED with exit code 0                   D exited non-zero; D will never start;
                                                        D's startTimeout expired
HEALTHY    D RUNNING and HEALTHY                        D stopped; D will never start;
                                                        D's startTimeout expired; D has no healthCheck
CREATE     D CREATED or later (volumesFrom)             D will never start
=========  ===========================================  ============================================

"D will never start": D has not reached RUNNING, its desired status is STOPPED and nothing is in flight
for it. The messages are the ECS agent's (``dependency graph: ...``), naming containers as the agent
prints them: ``name(image) (KNOWN->DESIRED) - Exit: N``.

Choices where ECS is silent or would hang:

* A HEALTHY dependency on a container without a healthCheck is terminal at once ("because dependency
  has no health check"): ECS registers such a task definition, and its agent stops the task on
  arrival ("Task dependencies cannot be resolved"), as it can never start.
* A HEALTHY dependency that stopped before turning healthy is terminal here ("because dependency
  stopped before it became healthy"); the ECS agent would wait for its startTimeout or forever.
* Any wait longer than ``wait_bound`` (the agent's ``dependency_wait_timeout``, default 600 s, counted
  from when the target began waiting) is terminal with ECS's ``... has timed out.`` message, so a task
  never hangs in PENDING.

Stopping: a container may be stopped only when no other container that depends on it is still not
STOPPED (the reverse of the start order; direct dependencies only, as the agent checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from minecs.model.task import HealthStatus, KnownStatus
from minecs.validation.graph import CREATE, Edge

START, COMPLETE, SUCCESS, HEALTHY = "START", "COMPLETE", "SUCCESS", "HEALTHY"
TIMED_CONDITIONS = (COMPLETE, SUCCESS, HEALTHY)


@dataclass(frozen=True, slots=True)
class ContainerView:
    """What ordering needs to know about one container right now."""

    name: str
    image: str = ""
    known: KnownStatus = KnownStatus.NONE
    desired_stopped: bool = False
    exit_code: int | None = None
    health: HealthStatus = HealthStatus.UNKNOWN
    started_at: datetime | None = None
    start_timeout: int | None = None
    in_flight: bool = False
    has_health_check: bool = True

    def __str__(self) -> str:
        desired = "STOPPED" if self.desired_stopped else "RUNNING"
        text = f"{self.name}({self.image}) ({self.known.name}->{desired})"
        return text if self.exit_code is None else f"{text} - Exit: {self.exit_code}"

    @property
    def will_never_start(self) -> bool:
        return self.known < KnownStatus.RUNNING and self.desired_stopped and not self.in_flight

    @property
    def ever_started(self) -> bool:
        return self.started_at is not None


@dataclass(frozen=True, slots=True)
class Start:
    """Every dependency is satisfied: pull, create and start the container now."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Some dependency is not satisfied yet; ``blocked_by`` names them."""

    blocked_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GiveUp:
    """A dependency can never be satisfied; ``reason`` is the agent's dependency-graph message."""

    reason: str


Decision = Start | Wait | GiveUp


def decide_start(
    target: ContainerView,
    views: Mapping[str, ContainerView],
    edges: Iterable[Edge],
    *,
    now: datetime,
    waiting_since: datetime,
    wait_bound: timedelta,
) -> Decision:
    """May ``target`` (not yet started) start now, must it wait, or can it never start?"""
    blocked: list[str] = []
    for edge in edges:
        if edge.target != target.name:
            continue
        dependency = views.get(edge.dependency)
        if dependency is None:
            return GiveUp(
                f"dependency graph: dependency {edge.dependency} of target [{target}] does not exist"
            )
        failure = _terminal(target, dependency, edge.condition, now)
        if failure is not None:
            return GiveUp(failure)
        if not _satisfied(dependency, edge.condition):
            blocked.append(dependency.name)
    if not blocked:
        return Start()
    if now - waiting_since > wait_bound:
        first = views[blocked[0]]
        return GiveUp(
            f"dependency graph: container ordering dependency [{first}] for target [{target}] has timed out."
        )
    return Wait(tuple(dict.fromkeys(blocked)))


def _terminal(target: ContainerView, d: ContainerView, condition: str, now: datetime) -> str | None:
    prefix = f"dependency graph: failed to resolve container ordering dependency [{d}] for target [{target}]"
    if condition in TIMED_CONDITIONS and d.known is not KnownStatus.STOPPED and _timed_out(d, now):
        return f"dependency graph: container ordering dependency [{d}] for target [{target}] has timed out."
    if condition == SUCCESS and d.known is KnownStatus.STOPPED and d.exit_code not in (None, 0):
        return f"{prefix} as dependency did not exit successfully."
    if condition == HEALTHY and not d.has_health_check:
        return f"{prefix} because dependency has no health check"
    if d.will_never_start or (d.known is KnownStatus.STOPPED and not d.ever_started):
        return f"{prefix} because dependency will never start"
    if condition == HEALTHY and d.known is KnownStatus.STOPPED:
        return f"{prefix} because dependency stopped before it became healthy"
    return None


def _timed_out(d: ContainerView, now: datetime) -> bool:
    if not d.start_timeout or d.started_at is None:
        return False
    return now > d.started_at + timedelta(seconds=d.start_timeout)


def _satisfied(d: ContainerView, condition: str) -> bool:
    if condition == START:
        return d.known is KnownStatus.RUNNING or (d.known is KnownStatus.STOPPED and d.ever_started)
    if condition == COMPLETE:
        return d.known is KnownStatus.STOPPED and d.exit_code is not None
    if condition == SUCCESS:
        return d.known is KnownStatus.STOPPED and d.exit_code == 0
    if condition == HEALTHY:
        return d.known is KnownStatus.RUNNING and d.health is HealthStatus.HEALTHY
    if condition == CREATE:
        return d.known >= KnownStatus.CREATED
    raise ValueError(f"unknown dependency condition {condition!r}")


def may_stop(name: str, views: Mapping[str, ContainerView], edges: Iterable[Edge]) -> bool:
    """True when no container that depends on ``name`` is still not STOPPED."""
    return all(
        views[e.target].known is KnownStatus.STOPPED or views[e.target].known is KnownStatus.NONE
        for e in edges
        if e.dependency == name and e.target in views and e.target != name
    )
