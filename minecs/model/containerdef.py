"""The ECS container definition, member for member: ``containerDefinitions[]`` and what it nests.

Part of the task definition (``minecs.model.taskdef`` holds the task-level members and the
definition itself). As there, every member of the ECS API model is a field, named in snake_case,
and ``minecs.model.codec`` maps it to the camelCase JSON member; members we do not act on are kept
and echoed.

Defaults are ECS's own, applied when a member is omitted (and then shown by describe, as ECS does):
``essential`` true, container ``cpu`` 0, port ``protocol`` tcp, ``healthCheck`` interval 30 /
timeout 5 / retries 3 / startPeriod 0, ``restartPolicy`` restartAttemptPeriod 300. ``hostPort``
stays absent when omitted (absent and 0 both mean a dynamic port in bridge mode, but we echo what
the user wrote).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from minecs.model.codec import StringMap, required


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
