"""The ECS task definition, member for member: ``RegisterTaskDefinition`` input and registered form.

Every member of the ECS API model (``Volume``, ``runtimePlatform``, ...) is a field here, named in
snake_case; ``minecs.model.codec`` maps it to the camelCase JSON member. Members we do not act on
are still kept and echoed, so a task definition survives the round trip through minecs unchanged.
The container definition and what it nests are ``minecs.model.containerdef``'s; placement
constraints are ``minecs.model.placement``'s (one type for the task definition and the service).

Defaults are ECS's own, applied when a member is omitted (and then shown by describe, as ECS does):
``networkMode`` bridge here, the container defaults in ``containerdef``.

``ContainerDefinition``, ``HealthCheck`` and ``LogDriver`` are re-exported (``as`` imports) because
the agent, reorganised in parallel for issue 18, imports them from here; they go once its imports
name ``containerdef``.

Design decision: ``TaskDefinitionSpec`` is what a user registers; ``TaskDefinition`` extends it
with the read-only members that registration adds (arn, revision, status, ...). Both are frozen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from minecs.model.codec import StringMap, required
from minecs.model.containerdef import ContainerDefinition as ContainerDefinition  # noqa: PLC0414
from minecs.model.containerdef import HealthCheck as HealthCheck  # noqa: PLC0414
from minecs.model.containerdef import KeyValuePair
from minecs.model.containerdef import LogDriver as LogDriver  # noqa: PLC0414
from minecs.model.efs import EfsVolumeConfiguration
from minecs.model.placement import PlacementConstraint


class NetworkMode(StrEnum):
    BRIDGE = "bridge"
    HOST = "host"
    AWSVPC = "awsvpc"
    NONE = "none"


class Compatibility(StrEnum):
    EC2 = "EC2"
    FARGATE = "FARGATE"
    EXTERNAL = "EXTERNAL"
    MANAGED_INSTANCES = "MANAGED_INSTANCES"


class Scope(StrEnum):
    TASK = "task"
    SHARED = "shared"


class TaskDefinitionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"


class PidMode(StrEnum):
    HOST = "host"
    TASK = "task"


class IpcMode(StrEnum):
    HOST = "host"
    TASK = "task"
    NONE = "none"


class ProxyType(StrEnum):
    APPMESH = "APPMESH"


class CpuArchitecture(StrEnum):
    X86_64 = "X86_64"
    ARM64 = "ARM64"


class OsFamily(StrEnum):
    LINUX = "LINUX"
    WINDOWS_SERVER_2019_FULL = "WINDOWS_SERVER_2019_FULL"
    WINDOWS_SERVER_2019_CORE = "WINDOWS_SERVER_2019_CORE"
    WINDOWS_SERVER_2016_FULL = "WINDOWS_SERVER_2016_FULL"
    WINDOWS_SERVER_2004_CORE = "WINDOWS_SERVER_2004_CORE"
    WINDOWS_SERVER_2022_CORE = "WINDOWS_SERVER_2022_CORE"
    WINDOWS_SERVER_2022_FULL = "WINDOWS_SERVER_2022_FULL"
    WINDOWS_SERVER_2025_CORE = "WINDOWS_SERVER_2025_CORE"
    WINDOWS_SERVER_2025_FULL = "WINDOWS_SERVER_2025_FULL"
    WINDOWS_SERVER_20H2_CORE = "WINDOWS_SERVER_20H2_CORE"


class IsolationMode(StrEnum):
    SHARED = "SHARED"
    ISOLATED_SANDBOX = "ISOLATED_SANDBOX"
    CONFIDENTIAL_SANDBOX = "CONFIDENTIAL_SANDBOX"


@dataclass(frozen=True)
class HostVolumeProperties:
    source_path: str | None = None


@dataclass(frozen=True)
class DockerVolumeConfiguration:
    scope: Scope | None = None
    autoprovision: bool | None = None
    driver: str | None = None
    driver_opts: StringMap = field(default_factory=dict)
    labels: StringMap = field(default_factory=dict)


@dataclass(frozen=True)
class Volume:
    """A task volume. EFS is mapped to NFS by the controller; the other cloud-only shapes are accepted
    here and refused by validation."""

    name: str | None = None
    host: HostVolumeProperties | None = None
    docker_volume_configuration: DockerVolumeConfiguration | None = None
    efs_volume_configuration: EfsVolumeConfiguration | None = None
    s3files_volume_configuration: Mapping[str, Any] | None = None
    fsx_windows_file_server_volume_configuration: Mapping[str, Any] | None = None
    configured_at_launch: bool | None = None


@dataclass(frozen=True)
class Tag:
    key: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ProxyConfiguration:
    container_name: str = required()
    type: ProxyType | None = None
    properties: tuple[KeyValuePair, ...] = ()


@dataclass(frozen=True)
class InferenceAccelerator:
    device_name: str = required()
    device_type: str = required()


@dataclass(frozen=True)
class EphemeralStorage:
    size_in_gib: int = field(default=0, metadata={"json": "sizeInGiB", "required": True})


@dataclass(frozen=True)
class RuntimePlatform:
    cpu_architecture: CpuArchitecture | None = None
    operating_system_family: OsFamily | None = None


@dataclass(frozen=True)
class TrustedExecutionConfiguration:
    isolation_mode: IsolationMode = required(IsolationMode.SHARED)
    attestation_policy: str | None = None


# Task-level cpu and memory are strings in the API ("1024", "1 vCPU", "2 GB"); YAML users write
# numbers, so the codec is told to accept both (validation then normalises them to integers).
_UNITS: Mapping[str, Any] = {"units": True}


@dataclass(frozen=True)
class TaskDefinitionSpec:
    """The ``RegisterTaskDefinition`` request."""

    family: str = required()
    container_definitions: tuple[ContainerDefinition, ...] = required(())
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    network_mode: NetworkMode = NetworkMode.BRIDGE
    volumes: tuple[Volume, ...] = ()
    placement_constraints: tuple[PlacementConstraint, ...] = ()
    requires_compatibilities: tuple[Compatibility, ...] = ()
    cpu: str | None = field(default=None, metadata=_UNITS)
    memory: str | None = field(default=None, metadata=_UNITS)
    tags: tuple[Tag, ...] = ()
    pid_mode: PidMode | None = None
    ipc_mode: IpcMode | None = None
    proxy_configuration: ProxyConfiguration | None = None
    inference_accelerators: tuple[InferenceAccelerator, ...] = ()
    ephemeral_storage: EphemeralStorage | None = None
    runtime_platform: RuntimePlatform | None = None
    enable_fault_injection: bool | None = None
    trusted_execution_configuration: TrustedExecutionConfiguration | None = None

    def container(self, name: str) -> ContainerDefinition | None:
        return next((c for c in self.container_definitions if c.name == name), None)


@dataclass(frozen=True)
class Attribute:
    name: str = required()
    value: str | None = None
    target_type: str | None = None
    target_id: str | None = None


@dataclass(frozen=True)
class TaskDefinition(TaskDefinitionSpec):
    """A registered task definition: the spec plus what registration adds (all read-only)."""

    task_definition_arn: str = ""
    revision: int = 0
    status: TaskDefinitionStatus = TaskDefinitionStatus.ACTIVE
    requires_attributes: tuple[Attribute, ...] = ()
    compatibilities: tuple[Compatibility, ...] = ()
    registered_at: datetime | None = field(default=None, metadata={"internal": True})
    deregistered_at: datetime | None = field(default=None, metadata={"internal": True})
    delete_requested_at: datetime | None = field(default=None, metadata={"internal": True})
    registered_by: str | None = None


# Members of the registered form that a user cannot set; form (b) input drops them.
READ_ONLY_MEMBERS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "deregisteredAt",
        "deleteRequestedAt",
        "registeredBy",
    }
)
