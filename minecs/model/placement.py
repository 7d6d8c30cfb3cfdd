"""Task placement's shapes: the constraint and strategy types of a service and RunTask, and their enums.

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
