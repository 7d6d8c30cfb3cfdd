"""The ``CreateService`` and ``CreateCluster`` request bodies, as frozen dataclasses.

Members minecs acts on are typed (desiredCount, deploymentConfiguration, placement, scheduling,
tags, ...). Members that only mean something in AWS (load balancers, Service Connect, VPC Lattice,
EBS volume configurations, ...) are kept as opaque JSON and echoed back: accepted, and ignored on a
minecs host. The task-definition docs table (docs/) lists which is which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from minecs.model.codec import REQUIRED
from minecs.model.placement import PlacementConstraint, PlacementStrategy
from minecs.model.taskdef import Tag

Opaque = Mapping[str, Any]


class SchedulingStrategy(StrEnum):
    REPLICA = "REPLICA"
    DAEMON = "DAEMON"


class LaunchType(StrEnum):
    EC2 = "EC2"
    FARGATE = "FARGATE"
    EXTERNAL = "EXTERNAL"
    MANAGED_INSTANCES = "MANAGED_INSTANCES"


class DeploymentControllerType(StrEnum):
    ECS = "ECS"
    CODE_DEPLOY = "CODE_DEPLOY"
    EXTERNAL = "EXTERNAL"


class DeploymentStrategy(StrEnum):
    ROLLING = "ROLLING"
    BLUE_GREEN = "BLUE_GREEN"
    LINEAR = "LINEAR"
    CANARY = "CANARY"


class PropagateTags(StrEnum):
    TASK_DEFINITION = "TASK_DEFINITION"
    SERVICE = "SERVICE"
    NONE = "NONE"


class AvailabilityZoneRebalancing(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class DeploymentCircuitBreaker:
    enable: bool = field(default=False, metadata=REQUIRED)
    rollback: bool = field(default=False, metadata=REQUIRED)
    reset_on_healthy_task: bool | None = None
    threshold_configuration: Opaque | None = None


@dataclass(frozen=True)
class DeploymentConfiguration:
    deployment_circuit_breaker: DeploymentCircuitBreaker | None = None
    maximum_percent: int | None = None
    minimum_healthy_percent: int | None = None
    alarms: Opaque | None = None
    strategy: DeploymentStrategy | None = None
    bake_time_in_minutes: int | None = None
    lifecycle_hooks: tuple[Opaque, ...] = ()
    linear_configuration: Opaque | None = None
    canary_configuration: Opaque | None = None
    early_success_criteria: Opaque | None = None


@dataclass(frozen=True)
class DeploymentController:
    type: DeploymentControllerType = field(default=DeploymentControllerType.ECS, metadata=REQUIRED)


@dataclass(frozen=True)
class CapacityProviderStrategyItem:
    capacity_provider: str = field(default="", metadata=REQUIRED)
    weight: int | None = None
    base: int | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """The ``CreateService`` request."""

    service_name: str = field(default="", metadata=REQUIRED)
    cluster: str | None = None
    task_definition: str | None = None
    availability_zone_rebalancing: AvailabilityZoneRebalancing | None = None
    load_balancers: tuple[Opaque, ...] = ()
    service_registries: tuple[Opaque, ...] = ()
    desired_count: int | None = None
    client_token: str | None = None
    launch_type: LaunchType | None = None
    capacity_provider_strategy: tuple[CapacityProviderStrategyItem, ...] = ()
    platform_version: str | None = None
    role: str | None = None
    deployment_configuration: DeploymentConfiguration | None = None
    placement_constraints: tuple[PlacementConstraint, ...] = ()
    placement_strategy: tuple[PlacementStrategy, ...] = ()
    network_configuration: Opaque | None = None
    health_check_grace_period_seconds: int | None = None
    scheduling_strategy: SchedulingStrategy = SchedulingStrategy.REPLICA
    deployment_controller: DeploymentController | None = None
    tags: tuple[Tag, ...] = ()
    enable_ecs_managed_tags: bool | None = field(default=None, metadata={"json": "enableECSManagedTags"})
    propagate_tags: PropagateTags | None = None
    enable_execute_command: bool | None = None
    service_connect_configuration: Opaque | None = None
    volume_configurations: tuple[Opaque, ...] = ()
    vpc_lattice_configurations: tuple[Opaque, ...] = ()
    gateway_connectors: tuple[Opaque, ...] = ()
    monitoring: Opaque | None = None


@dataclass(frozen=True)
class ClusterSetting:
    name: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ClusterSpec:
    """The ``CreateCluster`` request."""

    cluster_name: str | None = None
    tags: tuple[Tag, ...] = ()
    settings: tuple[ClusterSetting, ...] = ()
    configuration: Opaque | None = None
    capacity_providers: tuple[str, ...] = ()
    default_capacity_provider_strategy: tuple[CapacityProviderStrategyItem, ...] = ()
    service_connect_defaults: Opaque | None = None
