"""The ECS task definition, member for member: ``RegisterTaskDefinition`` input and registered form.

Every member of the ECS API model (``ContainerDefinition``, ``Volume``, ...) is a field here, named
in snake_case; ``minecs.model.codec`` maps it to the camelCase JSON member. Members we do not act on
are still kept and echoed, so a task definition survives the round trip through minecs unchanged.

Defaults are ECS's own, applied when a member is omitted (and then shown by describe, as ECS does):
``networkMode`` bridge, ``essential`` true, container ``cpu`` 0, port ``protocol`` tcp,
``healthCheck`` interval 30 / timeout 5 / retries 3 / startPeriod 0, ``restartPolicy``
restartAttemptPeriod 300. ``hostPort`` stays absent when omitted (absent and 0 both mean a dynamic
port in bridge mode, but we echo what the user wrote).

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
from minecs.model.efs import EfsVolumeConfiguration
from minecs.model.placement import PlacementConstraint


class NetworkMode(StrEnum):
    BRIDGE = "bridge"
    HOST = "host"
    AWSVPC = "awsvpc"
    NONE = "none"


class TransportProtocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class AppProtocol(StrEnum):
    HTTP = "http"
    HTTP2 = "http2"
    GRPC = "grpc"


class ContainerCondition(StrEnum):
    START = "START"
    COMPLETE = "COMPLETE"
    SUCCESS = "SUCCESS"
    HEALTHY = "HEALTHY"


class Compatibility(StrEnum):
    EC2 = "EC2"
    FARGATE = "FARGATE"
    EXTERNAL = "EXTERNAL"
    MANAGED_INSTANCES = "MANAGED_INSTANCES"


class LogDriver(StrEnum):
    JSON_FILE = "json-file"
    SYSLOG = "syslog"
    JOURNALD = "journald"
    GELF = "gelf"
    FLUENTD = "fluentd"
    AWSLOGS = "awslogs"
    SPLUNK = "splunk"
    AWSFIRELENS = "awsfirelens"


class UlimitName(StrEnum):
    CORE = "core"
    CPU = "cpu"
    DATA = "data"
    FSIZE = "fsize"
    LOCKS = "locks"
    MEMLOCK = "memlock"
    MSGQUEUE = "msgqueue"
    NICE = "nice"
    NOFILE = "nofile"
    NPROC = "nproc"
    RSS = "rss"
    RTPRIO = "rtprio"
    RTTIME = "rttime"
    SIGPENDING = "sigpending"
    STACK = "stack"


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


class VersionConsistency(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class EnvironmentFileType(StrEnum):
    S3 = "s3"


class DevicePermission(StrEnum):
    READ = "read"
    WRITE = "write"
    MKNOD = "mknod"


class ResourceType(StrEnum):
    GPU = "GPU"
    INFERENCE_ACCELERATOR = "InferenceAccelerator"
    NEURON_DEVICE = "NeuronDevice"


class FirelensType(StrEnum):
    FLUENTD = "fluentd"
    FLUENTBIT = "fluentbit"


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


# ---------------------------------------------------------------------------- container members


@dataclass(frozen=True)
class KeyValuePair:
    name: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class PortMapping:
    container_port: int | None = None
    host_port: int | None = None
    protocol: TransportProtocol = TransportProtocol.TCP
    name: str | None = None
    app_protocol: AppProtocol | None = None
    container_port_range: str | None = None


@dataclass(frozen=True)
class RestartPolicy:
    enabled: bool = required(False)
    ignored_exit_codes: tuple[int, ...] = ()
    restart_attempt_period: int = 300


@dataclass(frozen=True)
class EnvironmentFile:
    value: str = required()
    type: EnvironmentFileType = required(EnvironmentFileType.S3)


@dataclass(frozen=True)
class MountPoint:
    source_volume: str | None = None
    container_path: str | None = None
    read_only: bool | None = None


@dataclass(frozen=True)
class VolumeFrom:
    source_container: str | None = None
    read_only: bool | None = None


@dataclass(frozen=True)
class KernelCapabilities:
    add: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Device:
    host_path: str = required()
    container_path: str | None = None
    permissions: tuple[DevicePermission, ...] = ()


@dataclass(frozen=True)
class Tmpfs:
    container_path: str = required()
    size: int = required(0)
    mount_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinuxParameters:
    capabilities: KernelCapabilities | None = None
    devices: tuple[Device, ...] = ()
    init_process_enabled: bool | None = None
    shared_memory_size: int | None = None
    tmpfs: tuple[Tmpfs, ...] = ()
    max_swap: int | None = None
    swappiness: int | None = None


@dataclass(frozen=True)
class Secret:
    name: str = required()
    value_from: str = required()


@dataclass(frozen=True)
class ContainerDependency:
    container_name: str = required()
    condition: ContainerCondition = required(ContainerCondition.START)


@dataclass(frozen=True)
class HostEntry:
    hostname: str = required()
    ip_address: str = required()


@dataclass(frozen=True)
class Ulimit:
    name: UlimitName = required(UlimitName.NOFILE)
    soft_limit: int = required(0)
    hard_limit: int = required(0)


@dataclass(frozen=True)
class LogConfiguration:
    log_driver: LogDriver = required(LogDriver.JSON_FILE)
    options: StringMap = field(default_factory=dict)
    secret_options: tuple[Secret, ...] = ()


@dataclass(frozen=True)
class HealthCheck:
    command: tuple[str, ...] = required(())
    interval: int = 30
    timeout: int = 5
    retries: int = 3
    start_period: int = 0


@dataclass(frozen=True)
class SystemControl:
    namespace: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class NvidiaMpsAllocation:
    memory: int = required(0)
    max_compute_percent: int | None = None


@dataclass(frozen=True)
class SharingStrategy:
    nvidia_mps: NvidiaMpsAllocation | None = None


@dataclass(frozen=True)
class ResourceRequirement:
    type: ResourceType = required(ResourceType.GPU)
    value: str | None = None
    sharing_strategy: SharingStrategy | None = None


@dataclass(frozen=True)
class FirelensConfiguration:
    type: FirelensType = required(FirelensType.FLUENTBIT)
    options: StringMap = field(default_factory=dict)


@dataclass(frozen=True)
class RepositoryCredentials:
    credentials_parameter: str = required()


@dataclass(frozen=True)
class ContainerDefinition:
    name: str | None = None
    image: str | None = None
    repository_credentials: RepositoryCredentials | None = None
    cpu: int = 0
    memory: int | None = None
    memory_reservation: int | None = None
    links: tuple[str, ...] = ()
    port_mappings: tuple[PortMapping, ...] = ()
    essential: bool = True
    restart_policy: RestartPolicy | None = None
    entry_point: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    environment: tuple[KeyValuePair, ...] = ()
    environment_files: tuple[EnvironmentFile, ...] = ()
    mount_points: tuple[MountPoint, ...] = ()
    volumes_from: tuple[VolumeFrom, ...] = ()
    linux_parameters: LinuxParameters | None = None
    secrets: tuple[Secret, ...] = ()
    depends_on: tuple[ContainerDependency, ...] = ()
    start_timeout: int | None = None
    stop_timeout: int | None = None
    version_consistency: VersionConsistency | None = None
    hostname: str | None = None
    user: str | None = None
    working_directory: str | None = None
    disable_networking: bool | None = None
    privileged: bool | None = None
    readonly_root_filesystem: bool | None = None
    dns_servers: tuple[str, ...] = ()
    dns_search_domains: tuple[str, ...] = ()
    extra_hosts: tuple[HostEntry, ...] = ()
    docker_security_options: tuple[str, ...] = ()
    interactive: bool | None = None
    pseudo_terminal: bool | None = None
    docker_labels: StringMap = field(default_factory=dict)
    ulimits: tuple[Ulimit, ...] = ()
    log_configuration: LogConfiguration | None = None
    health_check: HealthCheck | None = None
    system_controls: tuple[SystemControl, ...] = ()
    resource_requirements: tuple[ResourceRequirement, ...] = ()
    firelens_configuration: FirelensConfiguration | None = None
    credential_specs: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- task members


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
