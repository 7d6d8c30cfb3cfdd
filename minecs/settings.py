"""Settings: one frozen dataclass tree, loaded from a YAML file and ``MINECS_*`` variables.

Precedence: defaults < file (``--config``, or ``MINECS_CONFIG``) < environment. A member
``docker.publish_address`` is set by the file as ``docker: {publish_address: ...}`` and by the
environment as ``MINECS_DOCKER_PUBLISH_ADDRESS``. A map of sections (``controller.efs.file_systems``)
is set by the file as a nested mapping, and by the environment as one variable holding the whole
map as YAML or JSON (``MINECS_CONTROLLER_EFS_FILE_SYSTEMS='{"fs-1": {"server": "10.0.0.5"}}'``);
its entries have no variables of their own. Bad values are loud: ``SettingsError`` names the
member and the source, and the daemon does not start.

The tree: ``log``, ``docker``, ``controller`` (> ``efs``), ``agent`` > ``engine`` > ``provision``,
``data_dir``, ``region``, ``account_id`` (docs/operations.md lists every member). Each daemon takes
its section as it is; flags that override a setting are applied in ``minecs.cli.daemons`` only.
Not settings, so not here, is what a process is told or learns at start (listen address and port,
controller URL, token, cluster, labels, instance id, paths under the data dir, the metadata
endpoint): plain arguments or ``minecs.controller.Address``, ``agent.daemon.AgentStart``,
``agent.resources.InstanceFacts``.

Design decision: settings are read here once and passed down explicitly; logic never reads the
environment itself, so tests build a ``Settings`` in one line and nothing leaks between them. This
module is the shared base: the agent imports it, it imports nothing of the agent.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml

from minecs.errors import SettingsError
from minecs.logs import LEVELS
from minecs.settingvalues import coerce

ENV_PREFIX = "MINECS_"
T = TypeVar("T")


def default_data_dir() -> Path:
    """``/var/lib/minecs`` as root, else ``~/.local/share/minecs`` (XDG data home)."""
    if os.geteuid() == 0:
        return Path("/var/lib/minecs")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "minecs"


@dataclass(frozen=True)
class LogSettings:
    level: str = "info"
    format: str = "auto"

    def __post_init__(self) -> None:
        if self.level.lower() not in LEVELS:
            raise SettingsError(f"log.level: {self.level!r} is not one of {', '.join(LEVELS)}")
        if self.format not in ("auto", "json", "console"):
            raise SettingsError(f"log.format: {self.format!r} is not one of auto, json, console")


@dataclass(frozen=True)
class DockerSettings:
    host: str = ""
    """Engine address (``unix:///var/run/docker.sock``); empty means ``DOCKER_HOST`` or the socket."""
    publish_address: str = "0.0.0.0"
    """Host address that task ports are published on; tests use 127.0.0.1."""
    workers: int = 16
    """Threads for concurrent Docker calls (parallel container starts need several)."""

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= 256:
            raise SettingsError(f"docker.workers: {self.workers} is not in 1..256")


@dataclass(frozen=True)
class EfsAccessPoint:
    """An EFS access point as this host has it: a directory inside its file system's export."""

    root: str = "/"
    """The access point's root directory, inside the file system (joined under its ``export``)."""

    def __post_init__(self) -> None:
        _absolute("root", self.root)


@dataclass(frozen=True)
class EfsFileSystem:
    """Where one EFS ``fileSystemId`` really is: an NFS server and export (docs/operations.md)."""

    server: str = ""
    """NFS server host name or address (required)."""
    export: str = "/"
    """The exported path; a volume's ``rootDirectory`` is joined under it."""
    port: int | None = None
    """NFS port, when not the server's default (2049)."""
    nfs_version: str = "4.1"
    """``nfsvers`` of the mount (EFS's mount helper mounts 4.1)."""
    options: str = ""
    """More NFS mount options, comma-separated (``hard,timeo=600``)."""
    transit_encryption: bool = False
    """The route to ``server`` is already encrypted (a TLS tunnel on loopback, a VPN): tasks whose
    volume says ``transitEncryption: ENABLED`` may use it. minecs itself encrypts nothing."""
    iam: bool = False
    """Tasks whose volume says ``authorizationConfig.iam: ENABLED`` may use it; there is no IAM
    here to authorize the mount, so the export's own access rules are all that apply."""
    access_points: Mapping[str, EfsAccessPoint] = field(default_factory=dict)
    """``fsap-...`` id -> the access point; an access point not listed is refused at launch."""

    def __post_init__(self) -> None:
        if not self.server:
            raise SettingsError("an EFS file system needs a server (server: <NFS host or address>)")
        _absolute("export", self.export)
        if self.port is not None and not 1 <= self.port <= 65535:
            raise SettingsError(f"port: {self.port} is not a port (1..65535)")


@dataclass(frozen=True)
class EfsSettings:
    file_systems: Mapping[str, EfsFileSystem] = field(default_factory=dict)
    """``fs-...`` id -> where it is; a task naming another id is refused at launch."""


def _absolute(member: str, path: str) -> None:
    if not path.startswith("/"):
        raise SettingsError(f"{member}: {path!r} is not an absolute path")


@dataclass(frozen=True)
class ControllerTuning:
    """The controller's clocks, in seconds (``MINECS_CONTROLLER_HEALTHY_DELAY=2`` in tests)."""

    agent_timeout: float = 60.0
    """An instance silent this long shows ``agentConnected: false``."""
    healthy_delay: float = 40.0
    """ECS's delay before a RUNNING task without a health check counts as healthy."""
    poll_wait: float = 20.0
    """Longest parked assignments poll (capped at a third of ``agent_timeout``)."""
    reconcile_interval: float = 5.0
    """The reconcile loop's timer; writes and reports wake it sooner."""
    launch_backoff: float = 10.0
    """First back-off between launches of a service whose tasks keep failing to start (doubles, 15 min cap)."""
    stopped_task_retention: float = 3600.0
    """How long a STOPPED task stays visible before it is deleted (ECS: about an hour)."""
    shutdown_timeout: float = 2.0
    """On stop, how long open requests get to finish; parked long-polls are cut (agents poll again)."""
    allow_unsigned_loopback: bool = False
    """Let unsigned ECS API requests from 127.0.0.1/::1 through (``aws --no-sign-request``)."""
    efs: EfsSettings = field(default_factory=EfsSettings)
    """Where EFS file systems named by task definitions really are (NFS servers)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and value <= 0:
                raise SettingsError(f"controller.{f.name}: {value} must be > 0")


class PullBehavior(StrEnum):
    """``ECS_IMAGE_PULL_BEHAVIOR`` (``agent.engine.ImageManager`` says what each one does)."""

    DEFAULT = "default"
    ALWAYS = "always"
    ONCE = "once"
    PREFER_CACHED = "prefer-cached"


@dataclass(frozen=True)
class ProvisionSettings:
    """How the agent makes a task's resources (``agent.engine.provision``)."""

    pause_image: str = "minecs/busybox:latest"
    """The image of an awsvpc task's pause container, which holds the task's network namespace."""
    default_stop_timeout: int = 30
    """Seconds from SIGTERM to SIGKILL for a container without ``stopTimeout`` (ECS: 30)."""
    port_range: tuple[int, int] | None = None
    """Dynamic host ports, ``[low, high]``; unset: the kernel's ephemeral range."""
    reserved_ports: tuple[int, ...] = ()
    """Host ports never given to a task, besides 22, 2375, 2376 and the agent's 51678-51680."""
    pause_stop_timeout: int = 5
    """Seconds from SIGTERM to SIGKILL for an awsvpc task's pause container."""

    def __post_init__(self) -> None:
        where = "agent.engine.provision"
        for name in ("default_stop_timeout", "pause_stop_timeout"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{where}.{name}: {getattr(self, name)} must be >= 0")
        if self.port_range is not None:
            low, high = self.port_range
            if not 1 <= low <= high <= 65535:
                raise SettingsError(
                    f"{where}.port_range: {list(self.port_range)} is not low..high in 1..65535"
                )
        for port in self.reserved_ports:
            if not 1 <= port <= 65535:
                raise SettingsError(f"{where}.reserved_ports: {port} is not a port (1..65535)")


@dataclass(frozen=True)
class EngineSettings:
    """The agent's task engine: its clocks in seconds, pulls, history (``agent.engine``)."""

    dependency_wait_timeout: float = 600.0
    """How long a container waits for its ``dependsOn`` conditions before it fails."""
    resync_interval: float = 30.0
    """The engine's timer: one container list per instance, missed events are healed from it."""
    cleanup_wait: float = 3 * 3600.0
    """How long a stopped task's containers stay before they are removed (ECS: 3 h)."""
    pull_behavior: PullBehavior = PullBehavior.DEFAULT
    """When images are pulled: default, always, once, prefer-cached (``--pull-behavior``)."""
    history_limit: int = 500
    """State changes kept per task, for replay to a controller that missed them."""
    provision: ProvisionSettings = field(default_factory=ProvisionSettings)

    def __post_init__(self) -> None:
        for name in ("dependency_wait_timeout", "cleanup_wait"):
            if getattr(self, name) < 0:
                raise SettingsError(f"agent.engine.{name}: {getattr(self, name)} must be >= 0")
        if self.resync_interval <= 0:
            raise SettingsError(f"agent.engine.resync_interval: {self.resync_interval} must be > 0")
        if self.history_limit < 1:
            raise SettingsError(f"agent.engine.history_limit: {self.history_limit} must be >= 1")


@dataclass(frozen=True)
class AgentSettings:
    """The agent daemon: its ports and its poll (``MINECS_AGENT_METRICS_PORT=0`` for any free port).

    A port left unset is ECS's (51678-51680), or any free port while another agent holds it; a port
    set (0: any free one) is what the agent listens on, and when it is taken the agent does not start."""

    metrics_port: int | None = None
    """Prometheus ``/metrics`` (docs/metrics.md); unset: 51680."""
    metrics_address: str = "127.0.0.1"
    """The address ``/metrics`` listens on (``0.0.0.0`` for a scraper on another host)."""
    metadata_port: int | None = None
    """The task metadata endpoint that containers are told about; unset: 51679."""
    introspection_port: int | None = None
    """The introspection API on 127.0.0.1; unset: 51678."""
    poll_wait: float = 20.0
    """Longest wait the agent asks of one assignments long-poll (the controller may cap it)."""
    backoff_start: float = 1.0
    """First wait before a call to an unreachable controller is retried; it doubles from there."""
    backoff_max: float = 30.0
    """Longest wait between retries while the controller is away."""
    connected_within: float = 60.0
    """The agent's metrics call the controller connected while it answered this recently."""
    static_rescan: float = 2.0
    """``minecs agent-static``: how often the task files are read again."""
    engine: EngineSettings = field(default_factory=EngineSettings)

    def __post_init__(self) -> None:
        for name in ("metrics_port", "metadata_port", "introspection_port"):
            if getattr(self, name) is not None and not 0 <= getattr(self, name) <= 65535:
                raise SettingsError(f"agent.{name}: {getattr(self, name)} is not a port (0..65535)")
        for name in ("poll_wait", "backoff_start", "connected_within", "static_rescan"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"agent.{name}: {getattr(self, name)} must be > 0")
        if not self.metrics_address:
            raise SettingsError("agent.metrics_address: must not be empty")
        if self.backoff_max < self.backoff_start:
            raise SettingsError(
                f"agent.backoff_max: {self.backoff_max} must be >= backoff_start ({self.backoff_start})"
            )


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    log: LogSettings = field(default_factory=LogSettings)
    docker: DockerSettings = field(default_factory=DockerSettings)
    controller: ControllerTuning = field(default_factory=ControllerTuning)
    agent: AgentSettings = field(default_factory=AgentSettings)
    region: str = "us-east-1"
    """The region in every ARN (minecs is one region; ``MINECS_REGION``)."""
    account_id: str = "000000000000"
    """The 12-digit account in every ARN (``MINECS_ACCOUNT_ID``)."""

    def __post_init__(self) -> None:
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise SettingsError(f"account_id: {self.account_id!r} is not a 12-digit AWS account id")


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from defaults, then the YAML file, then ``MINECS_*`` variables."""
    env = os.environ if environ is None else environ
    config_path = path or (Path(env["MINECS_CONFIG"]) if env.get("MINECS_CONFIG") else None)
    raw: dict[str, Any] = _read_file(config_path) if config_path else {}
    return _build(Settings, raw, env, prefix="", source=str(config_path or ""))


def _read_file(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"settings file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"settings file {path} must hold a mapping at the top level")
    return loaded


def _build(cls: type[T], raw: Mapping[str, Any], env: Mapping[str, str], prefix: str, source: str) -> T:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - names)
    if unknown:
        raise SettingsError(f"{source}: unknown setting {prefix}{unknown[0]}")
    values: dict[str, Any] = {}
    for name in names:
        hint = hints[name]
        dotted = f"{prefix}{name}"
        if dataclasses.is_dataclass(hint):
            section = raw.get(name) or {}
            if not isinstance(section, Mapping):
                raise SettingsError(f"{source}: {dotted} must be a mapping")
            values[name] = _build(hint, section, env, f"{dotted}.", source)  # type: ignore[arg-type]
            continue
        env_name = ENV_PREFIX + dotted.replace(".", "_").upper()
        entry = _section_of_map(hint)
        if entry is not None:
            values[name] = _build_map(
                entry, raw.get(name), env.get(env_name), env_name=env_name, dotted=dotted, source=source
            )
        elif env_name in env:
            values[name] = coerce(hint, env[env_name], env_name)
        elif name in raw:
            values[name] = coerce(hint, raw[name], f"{source}: {dotted}")
    return cls(**values)


def _section_of_map(hint: Any) -> type[Any] | None:
    """The section type of a ``Mapping[str, Section]`` member; None for any other member."""
    if typing.get_origin(hint) is not Mapping:
        return None
    _, value = typing.get_args(hint)
    return value if dataclasses.is_dataclass(value) else None  # type: ignore[return-value]


def _build_map(
    entry: type[T], from_file: Any, from_env: str | None, *, env_name: str, dotted: str, source: str
) -> dict[str, T]:
    """A map of sections, from its variable (the whole map as YAML/JSON) or else from the file."""
    data = from_file or {}
    if from_env is not None:
        source = env_name
        try:
            data = yaml.safe_load(from_env) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"{env_name}: not valid YAML or JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise SettingsError(f"{source}: {dotted} must be a mapping of names to sections")
    built: dict[str, T] = {}
    for key, section in data.items():
        where = f"{dotted}.{key}"
        if not isinstance(section, Mapping):
            raise SettingsError(f"{source}: {where} must be a mapping")
        try:
            built[str(key)] = _build(entry, section, {}, f"{where}.", source)
        except SettingsError as exc:
            if where in exc.message:
                raise
            raise SettingsError(f"{source}: {where}: {exc.message}") from exc
    return built
