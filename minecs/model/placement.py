"""Task placement's shapes, one of each: the constraint and strategy types and their enums.

ECS names two constraint shapes (``TaskDefinitionPlacementConstraint`` and ``PlacementConstraint``)
with the same members; only the types they allow differ: a task definition's allows ``memberOf``,
a service's and RunTask's allow ``distinctInstance`` and ``memberOf``. Here they are one type, held
by the task definition and the service alike; which types a task definition may use is a rule of
``minecs.validation`` (``TASK_DEFINITION_ENUMS``), worded as the codec words any enum.

The dataclasses are the wire shapes (every member optional, as the ECS model has them, so
validation can name what is missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
