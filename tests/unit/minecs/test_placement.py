"""Placement: candidates, strategies in order, constraints, and honest reasons when nothing fits."""

from __future__ import annotations

import random

import pytest

from minecs.errors import ExpressionError
from minecs.model.expression import matches, parse_expression
from minecs.model.placement import PlacementConstraintType as ConstraintType
from minecs.model.placement import PlacementStrategy, placement_constraint
from minecs.model.placement import PlacementStrategyType as StrategyType
from minecs.scheduling.placement import Candidate, Need, Placed, Unplaced, place

NEED = Need(cpu=256, memory=512, group="service:web")


def c(name: str, cpu: int = 2048, memory: int = 4096, **kw: object) -> Candidate:
    return Candidate(name, cpu, memory, **kw)  # type: ignore[arg-type]


def test_no_instances_and_nothing_fitting_give_reasons() -> None:
    assert place(NEED, []) == Unplaced("No Container Instances were found in your cluster.")
    result = place(NEED, [c("a", cpu=100), c("b", memory=100), c("c", usable=False)])
    assert result == Unplaced(
        "No Container Instances met all of its requirements: agent disconnected or instance not ACTIVE, "
        "insufficient CPU, insufficient memory."
    )


def test_ports_and_attributes_filter() -> None:
    need = Need(
        cpu=0, memory=0, ports=frozenset({(80, "tcp")}), attributes=frozenset({"ecs.capability.task-eni"})
    )
    assert place(
        need,
        [
            c("a", ports_used=frozenset({(80, "tcp")}), attributes={"ecs.capability.task-eni": ""}),
            c("b", attributes={"ecs.capability.task-eni": ""}),
            c("c"),
        ],
    ) == Placed("b")


def test_spread_by_instance_prefers_the_fewest_of_the_group() -> None:
    found = place(
        NEED,
        [
            c("a", groups={"service:web": 2}),
            c("b", groups={"service:web": 1, "other": 5}),
            c("c", groups={"service:web": 2}),
        ],
        strategies=[PlacementStrategy(StrategyType.SPREAD, "instanceId")],
    )
    assert found == Placed("b")


def test_spread_by_attribute_then_binpack() -> None:
    instances = [
        c("a", memory=1000, attributes={"zone": "z1"}, groups={"service:web": 1}),
        c("b", memory=3000, attributes={"zone": "z2"}),
        c("d", memory=2000, attributes={"zone": "z2"}),
    ]
    found = place(
        NEED,
        instances,
        strategies=[
            PlacementStrategy(StrategyType.SPREAD, "attribute:zone"),
            PlacementStrategy(StrategyType.BINPACK, "memory"),
        ],
    )
    assert found == Placed("d")


def test_binpack_cpu_and_deterministic_ties() -> None:
    assert place(
        NEED,
        [c("b", cpu=512), c("a", cpu=512), c("z", cpu=4096)],
        strategies=[PlacementStrategy(StrategyType.BINPACK, "cpu")],
    ) == Placed("a")


def test_random_uses_the_given_generator() -> None:
    picks = {
        place(
            NEED,
            [c("a"), c("b"), c("c")],
            strategies=[PlacementStrategy(StrategyType.RANDOM)],
            rng=random.Random(seed),
        )
        for seed in range(20)
    }
    assert picks == {Placed("a"), Placed("b"), Placed("c")}


def test_distinct_instance_and_member_of() -> None:
    constraints = [
        placement_constraint(ConstraintType.DISTINCT_INSTANCE),
        placement_constraint(ConstraintType.MEMBER_OF, "attribute:ecs.os-type == linux"),
    ]
    instances = [
        c("a", groups={"service:web": 1}, attributes={"ecs.os-type": "linux"}),
        c("b", attributes={"ecs.os-type": "windows"}),
        c("c", attributes={"ecs.os-type": "linux"}),
    ]
    assert place(NEED, instances, constraints=constraints) == Placed("c")
    assert place(NEED, instances[:2], constraints=constraints) == Unplaced(
        "No Container Instances met all of its requirements: distinctInstance placement constraint, memberOf placement constraint."
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("attribute:zone == z1", True),
        ("attribute:zone != z1", False),
        ("attribute:zone in [z2, z1]", True),
        ("attribute:zone not_in [z1]", False),
        ("attribute:gpu exists", False),
        ("attribute:zone exists and attribute:arch == arm64", True),
        ("attribute:zone == z9 or attribute:arch == arm64", True),
    ],
)
def test_member_of_expressions(expression: str, expected: bool) -> None:
    assert matches(expression, {"zone": "z1", "arch": "arm64"}) is expected


@pytest.mark.parametrize(
    "expression", ["runningTasksCount > 1", "attribute:zone =~ z.*", "task:group == x", "", "<x>"]
)
def test_unsupported_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError, match="unsupported memberOf expression term"):
        parse_expression(expression)


def test_a_member_of_constraint_cannot_be_made_with_an_expression_placement_cannot_read() -> None:
    """The poison of issue 15: ``<x>`` was stored, then failed every reconcile pass."""
    with pytest.raises(ExpressionError, match="'<x>'") as raised:
        placement_constraint(ConstraintType.MEMBER_OF, "<x>")
    assert raised.value.code == "InvalidParameterException"
    with pytest.raises(ExpressionError, match="at most 2000 characters"):
        placement_constraint(ConstraintType.MEMBER_OF, "attribute:a == b and " * 100 + "attribute:a exists")
    assert placement_constraint(ConstraintType.DISTINCT_INSTANCE).expression == ""
