"""Pure task placement: which container instance gets a task, or why none can.

An instance is a candidate when it is ACTIVE, its agent is connected, it has the task's cpu and
memory left (reservation = task-level cpu/memory when set, else the sum over containers of cpu and
of memoryReservation-or-memory, as ECS accounts), none of the task's static host ports is taken there,
it offers every attribute the task definition requires, and it passes every placement constraint.
Among candidates, the strategies are applied in order, each narrowing the choice (as ECS documents):

* ``spread`` over ``instanceId`` (or ``host``) or ``attribute:<name>``: fewest tasks of the same group;
* ``binpack`` on ``cpu`` or ``memory``: least of that resource left;
* ``random``: any.

Constraints: ``distinctInstance`` (no other task of the same group on the instance) and ``memberOf``
with the subset of the cluster query language that ``minecs.model.expression`` reads. Anything else
is refused when the service or task is created, so it never surprises placement. Strategies and
constraints are ``minecs.model.placement``'s, the shapes the task definition and the service hold.

Ties are broken by instance id, so placement is deterministic for tests; ``random`` takes a seeded
``random.Random`` from the caller.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from minecs.model.expression import matches
from minecs.model.placement import (
    PlacementConstraint,
    PlacementConstraintType,
    PlacementStrategy,
    PlacementStrategyType,
)


@dataclass(frozen=True)
class Need:
    """What one task takes from an instance."""

    cpu: int
    memory: int
    ports: frozenset[tuple[int, str]] = frozenset()
    attributes: frozenset[str] = frozenset()
    group: str = ""


@dataclass(frozen=True)
class Candidate:
    instance_id: str
    cpu_left: int
    memory_left: int
    ports_used: frozenset[tuple[int, str]] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, int] = field(default_factory=dict)
    """How many running or pending tasks of each group the instance holds."""
    usable: bool = True
    """ACTIVE and connected."""


@dataclass(frozen=True)
class Placed:
    instance_id: str


@dataclass(frozen=True)
class Unplaced:
    reason: str


def _fits(need: Need, c: Candidate, constraints: Sequence[PlacementConstraint]) -> str | None:
    """None when ``c`` can take the task, else the first reason it cannot."""
    distinct = any(k.type is PlacementConstraintType.DISTINCT_INSTANCE for k in constraints)
    member_of = [k.expression or "" for k in constraints if k.type is PlacementConstraintType.MEMBER_OF]
    checks = (
        (not c.usable, "agent disconnected or instance not ACTIVE"),
        (c.cpu_left < need.cpu, "insufficient CPU"),
        (c.memory_left < need.memory, "insufficient memory"),
        (bool(need.ports & c.ports_used), "host port already in use"),
        (not need.attributes <= set(c.attributes), "missing required attribute"),
        (distinct and c.groups.get(need.group, 0) > 0, "distinctInstance placement constraint"),
        (not all(matches(e, c.attributes) for e in member_of), "memberOf placement constraint"),
    )
    return next((why for failed, why in checks if failed), None)


def place(
    need: Need,
    candidates: Sequence[Candidate],
    *,
    strategies: Sequence[PlacementStrategy] = (),
    constraints: Sequence[PlacementConstraint] = (),
    rng: random.Random | None = None,
) -> Placed | Unplaced:
    if not candidates:
        return Unplaced("No Container Instances were found in your cluster.")
    reasons = {c.instance_id: _fits(need, c, constraints) for c in candidates}
    fitting = sorted((c for c in candidates if reasons[c.instance_id] is None), key=lambda c: c.instance_id)
    if not fitting:
        why = sorted({r for r in reasons.values() if r})
        return Unplaced(f"No Container Instances met all of its requirements: {', '.join(why)}.")
    for strategy in strategies:
        fitting = _narrow(strategy, need, fitting, rng or random.Random(0))
    return Placed(fitting[0].instance_id)


def _narrow(
    strategy: PlacementStrategy, need: Need, fitting: list[Candidate], rng: random.Random
) -> list[Candidate]:
    if strategy.type is PlacementStrategyType.RANDOM:
        return [rng.choice(fitting)]
    if strategy.type is PlacementStrategyType.BINPACK:
        left = {c.instance_id: c.cpu_left if strategy.field == "cpu" else c.memory_left for c in fitting}
        least = min(left.values())
        return [c for c in fitting if left[c.instance_id] == least]
    return _spread(strategy.field or "", need, fitting)


def _spread(field_name: str, need: Need, fitting: list[Candidate]) -> list[Candidate]:
    if field_name in ("instanceId", "host", ""):
        fewest = min(c.groups.get(need.group, 0) for c in fitting)
        return [c for c in fitting if c.groups.get(need.group, 0) == fewest]
    attribute = field_name.removeprefix("attribute:")
    per_value: dict[str | None, int] = {}
    for c in fitting:
        value = c.attributes.get(attribute)
        per_value[value] = per_value.get(value, 0) + c.groups.get(need.group, 0)
    fewest = min(per_value.values())
    return [c for c in fitting if per_value[c.attributes.get(attribute)] == fewest]
