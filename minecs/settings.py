"""Settings: one frozen dataclass tree, loaded from a YAML file and ``MINECS_*`` variables.

Precedence: defaults < file (``--config``, or ``MINECS_CONFIG``) < environment. A member
``docker.publish_address`` is set by the file as ``docker: {publish_address: ...}`` and by the
environment as ``MINECS_DOCKER_PUBLISH_ADDRESS``. Bad values are loud: ``SettingsError`` names the
member and the source, and the daemon does not start.

Design decision: settings are read here once and passed down explicitly; logic never reads the
environment itself, so tests build a ``Settings`` in one line and nothing leaks between them.
Later daemons add their own sections to this tree.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from minecs.errors import SettingsError
from minecs.logs import LEVELS

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
    allow_unsigned_loopback: bool = False
    """Let unsigned ECS API requests from 127.0.0.1/::1 through (``aws --no-sign-request``)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and value <= 0:
                raise SettingsError(f"controller.{f.name}: {value} must be > 0")


@dataclass(frozen=True)
class AgentTuning:
    """The agent's own ports (``MINECS_AGENT_METRICS_PORT=0`` for any free one)."""

    metrics_port: int = 51680
    """Prometheus ``/metrics`` on 127.0.0.1 (docs/metrics.md)."""

    def __post_init__(self) -> None:
        if not 0 <= self.metrics_port <= 65535:
            raise SettingsError(f"agent.metrics_port: {self.metrics_port} is not a port (0..65535)")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    log: LogSettings = field(default_factory=LogSettings)
    docker: DockerSettings = field(default_factory=DockerSettings)
    controller: ControllerTuning = field(default_factory=ControllerTuning)
    agent: AgentTuning = field(default_factory=AgentTuning)
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
        if env_name in env:
            values[name] = _coerce(hint, env[env_name], env_name)
        elif name in raw:
            values[name] = _coerce(hint, raw[name], f"{source}: {dotted}")
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    target = _plain_type(hint)
    try:
        if target is bool:
            return _as_bool(value)
        if target is Path:
            return Path(str(value)).expanduser()
        if target in (int, float, str):
            return target(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{where}: {value!r} is not a valid {target.__name__}") from exc
    raise SettingsError(f"{where}: unsupported setting type {hint!r}")


def _plain_type(hint: Any) -> Any:
    if isinstance(hint, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)
