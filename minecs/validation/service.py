"""ECS rules for services (``CreateService``) and clusters (``CreateCluster``), pure like the task rules.

Choices (ECS documents no wording for most of these; messages are ours and name the member):

* ``desiredCount`` is required for REPLICA and refused for DAEMON, with ECS's own DAEMON wording
  ``The daemon scheduling strategy does not support a desired count for services.``
* Only the rolling-update deployment (controller ``ECS``, strategy ``ROLLING``) exists on a minecs
  host; the others are refused with ``UnsupportedFeatureException``.
* ``minimumHealthyPercent`` is 0..100 and ``maximumPercent`` at least 100 for REPLICA services, so a
  rolling deployment can always make progress (the arithmetic itself lives in scheduling).
* ``taskDefinition`` is ``family``, ``family:revision`` or a task-definition ARN.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from minecs.errors import FieldProblem, ValidationError
from minecs.model.placement import PlacementConstraintType, PlacementStrategyType
from minecs.model.service import (
    ClusterSetting,
    ClusterSpec,
    DeploymentControllerType,
    DeploymentStrategy,
    SchedulingStrategy,
    ServiceSpec,
)
from minecs.validation.report import (
    INVALID_PARAMETER,
    Report,
    check_expression,
    decode_keeping_unknown,
    decode_or_raise,
)
from minecs.validation.task import check_tags

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
TASK_DEFINITION_REF = re.compile(
    r"^(?:arn:[\w-]+:ecs:[\w-]*:\d*:task-definition/)?(?P<family>[A-Za-z0-9_-]{1,255})(?::(?P<revision>[1-9]\d*))?$"
)
UNSUPPORTED = "UnsupportedFeatureException"
MAX_PLACEMENT_STRATEGIES = 5
MAX_PLACEMENT_CONSTRAINTS = 10
CONTAINER_INSIGHTS_VALUES = ("enabled", "disabled", "enhanced")
MAX_DESIRED_COUNT = 5000
"""ECS's service quota "Tasks per service" (5,000). Choice: ECS lets support raise it; minecs does not."""
DESIRED_COUNT_RANGE = (
    f"desiredCount must be between 0 and {MAX_DESIRED_COUNT} (ECS's tasks per service quota)."
)


def parse_service(data: Any, source: str = "") -> ServiceSpec:
    spec, unknown = decode_keeping_unknown(ServiceSpec, data, source)
    report = Report(source)
    report.problems.extend(unknown)
    check_service(spec, report)
    report.raise_if_any()
    return spec


def parse_cluster(data: Any, source: str = "") -> ClusterSpec:
    spec = decode_or_raise(ClusterSpec, data, source)
    report = Report(source)
    if spec.cluster_name is not None and not NAME_PATTERN.match(spec.cluster_name):
        report.add("clusterName", _name_message("cluster", spec.cluster_name))
    check_cluster_settings(spec.settings, report)
    check_tags(spec.tags, report)
    report.raise_if_any()
    return spec


def parse_cluster_settings(data: Any, source: str = "settings") -> list[ClusterSetting]:
    """UpdateClusterSettings' / UpdateCluster's ``settings``: a list of valid ClusterSettings."""
    if not isinstance(data, list):
        raise ValidationError([FieldProblem(source, "settings must be a list.", INVALID_PARAMETER)])
    settings = [decode_or_raise(ClusterSetting, s, f"{source}[{i}]") for i, s in enumerate(data)]
    report = Report()
    check_cluster_settings(settings, report)
    report.raise_if_any()
    return settings


def check_cluster_settings(settings: Sequence[ClusterSetting], report: Report) -> None:
    """ECS has one cluster setting, ``containerInsights``: ``enabled``, ``disabled`` or ``enhanced``."""
    for i, setting in enumerate(settings):
        if setting.name is None:
            report.add(
                f"settings[{i}].name",
                "A cluster setting needs a name; the only one is containerInsights.",
                INVALID_PARAMETER,
            )
        elif setting.name != "containerInsights":
            report.add(
                f"settings[{i}].name",
                f"Unknown cluster setting '{setting.name}'; the only one is containerInsights.",
                INVALID_PARAMETER,
            )
        elif setting.value not in CONTAINER_INSIGHTS_VALUES:
            report.add(
                f"settings[{i}].value",
                "containerInsights must be one of enabled, disabled, enhanced.",
                INVALID_PARAMETER,
            )


def _name_message(kind: str, name: str) -> str:
    return (
        f"Invalid {kind} name '{name}': up to 255 letters (uppercase and lowercase), numbers, "
        "underscores, and hyphens are allowed."
    )


def check_service(spec: ServiceSpec, report: Report) -> None:
    if not NAME_PATTERN.match(spec.service_name):
        report.add("serviceName", _name_message("service", spec.service_name))
    if spec.cluster is not None and not spec.cluster:
        report.add("cluster", "cluster must not be empty.")
    if not spec.task_definition:
        report.add(
            "taskDefinition", "taskDefinition is required: a family, family:revision, or task definition ARN."
        )
    elif not TASK_DEFINITION_REF.match(spec.task_definition):
        report.add(
            "taskDefinition",
            f"Invalid taskDefinition '{spec.task_definition}': use family, family:revision, or a task definition ARN.",
            INVALID_PARAMETER,
        )
    _check_count(spec, report)
    _check_deployment(spec, report)
    _check_placement(spec, report)
    check_tags(spec.tags, report)


def _check_count(spec: ServiceSpec, report: Report) -> None:
    daemon = spec.scheduling_strategy is SchedulingStrategy.DAEMON
    if daemon and spec.desired_count is not None:
        report.add(
            "desiredCount",
            "The daemon scheduling strategy does not support a desired count for services.",
            INVALID_PARAMETER,
        )
    elif not daemon and spec.desired_count is None:
        report.add(
            "desiredCount", "desiredCount is required when schedulingStrategy is REPLICA.", INVALID_PARAMETER
        )
    elif spec.desired_count is not None and not 0 <= spec.desired_count <= MAX_DESIRED_COUNT:
        report.add("desiredCount", DESIRED_COUNT_RANGE, INVALID_PARAMETER)
    if daemon and spec.placement_strategy:
        report.add(
            "placementStrategy",
            "Placement strategies are not supported with the DAEMON scheduling strategy.",
            INVALID_PARAMETER,
        )


def _check_deployment(spec: ServiceSpec, report: Report) -> None:
    controller = spec.deployment_controller
    if controller is not None and controller.type is not DeploymentControllerType.ECS:
        report.add(
            "deploymentController.type",
            f"The {controller.type.value} deployment controller is not available on a minecs host; use ECS.",
            UNSUPPORTED,
        )
    config = spec.deployment_configuration
    if config is None:
        return
    if config.strategy is not None and config.strategy is not DeploymentStrategy.ROLLING:
        report.add(
            "deploymentConfiguration.strategy",
            f"The {config.strategy.value} deployment strategy is not available on a minecs host; use ROLLING.",
            UNSUPPORTED,
        )
    low = config.minimum_healthy_percent
    if low is not None and not 0 <= low <= 100:
        report.add(
            "deploymentConfiguration.minimumHealthyPercent",
            "minimumHealthyPercent must be between 0 and 100.",
            INVALID_PARAMETER,
        )
    high = config.maximum_percent
    replica = spec.scheduling_strategy is SchedulingStrategy.REPLICA
    if high is not None and (high < 0 or (replica and high < 100)):
        report.add(
            "deploymentConfiguration.maximumPercent",
            "maximumPercent must be at least 100 for a REPLICA service.",
            INVALID_PARAMETER,
        )


def _check_placement(spec: ServiceSpec, report: Report) -> None:
    if len(spec.placement_strategy) > MAX_PLACEMENT_STRATEGIES:
        report.add(
            "placementStrategy", f"At most {MAX_PLACEMENT_STRATEGIES} placement strategies are allowed."
        )
    for i, strategy in enumerate(spec.placement_strategy):
        path = f"placementStrategy[{i}]"
        if strategy.type is None:
            report.add(f"{path}.type", "A placement strategy needs a type: random, spread or binpack.")
        elif strategy.type is PlacementStrategyType.BINPACK and strategy.field not in ("cpu", "memory"):
            report.add(
                f"{path}.field",
                "The binpack placement strategy needs field cpu or memory.",
                INVALID_PARAMETER,
            )
        elif strategy.type is PlacementStrategyType.SPREAD and not strategy.field:
            report.add(
                f"{path}.field",
                "The spread placement strategy needs a field, e.g. instanceId.",
                INVALID_PARAMETER,
            )
    if len(spec.placement_constraints) > MAX_PLACEMENT_CONSTRAINTS:
        report.add(
            "placementConstraints", f"At most {MAX_PLACEMENT_CONSTRAINTS} placement constraints are allowed."
        )
    for i, constraint in enumerate(spec.placement_constraints):
        path = f"placementConstraints[{i}]"
        if constraint.type is PlacementConstraintType.MEMBER_OF and not constraint.expression:
            report.add(
                f"{path}.expression",
                "A memberOf placement constraint needs an expression.",
                INVALID_PARAMETER,
            )
        elif constraint.type is PlacementConstraintType.MEMBER_OF:
            check_expression(constraint.expression or "", f"{path}.expression", report)
        elif constraint.type is PlacementConstraintType.DISTINCT_INSTANCE and constraint.expression:
            report.add(
                f"{path}.expression",
                "A distinctInstance placement constraint takes no expression.",
                INVALID_PARAMETER,
            )
        elif constraint.type is None:
            report.add(f"{path}.type", "A placement constraint needs a type: distinctInstance or memberOf.")
