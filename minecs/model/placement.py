"""Task placement's shapes, one of each: the constraint and strategy types and their enums.

ECS names two constraint shapes (``TaskDefinitionPlacementConstraint`` and ``PlacementConstraint``)
with the same members; only the types they allow differ: a task definition's allows ``memberOf``,
a service's and RunTask's allow ``distinctInstance`` and ``memberOf``. Here they are one type, held
by the task definition and the service alike; which types a task definition may use is a rule of
``minecs.validation`` (``TASK_DEFINITION_ENUMS``), worded as the codec words any enum.

Design decision: the dataclasses are the wire shapes (every member optional, as the ECS model has
them, so validation can name what is missing), and placement (``minecs.scheduling.placement``) reads
the same ones. ``placement_constraint`` is how a constraint is made from a request or a stored task:
it parses a ``memberOf`` expression there, so a bad one is refused where it enters
(``ExpressionError``), never met later while placing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from minecs.model.expression import parse_expression


class PlacementConstraintType(StrEnum):
    DISTINCT_INSTANCE = "distinctInstance"
    MEMBER_OF = "memberOf"


class PlacementStrategyType(StrEnum):
    RANDOM = "random"
    SPREAD = "spread"
    BINPACK = "binpack"


@dataclass(frozen=True)
class PlacementConstraint:
    type: PlacementConstraintType | None = None
    expression: str | None = None


@dataclass(frozen=True)
class PlacementStrategy:
    type: PlacementStrategyType | None = None
    field: str | None = None


def placement_constraint(type_: PlacementConstraintType, expression: str = "") -> PlacementConstraint:
    """A constraint placement can act on; a ``memberOf`` expression it cannot read raises
    ``ExpressionError`` here."""
    if type_ is PlacementConstraintType.MEMBER_OF:
        parse_expression(expression)
    return PlacementConstraint(type_, expression)
