"""The container-runtime seam: our own types for containers and events, and the ``Driver`` Protocol.

Everything above this seam (the task engine, health, networking, the smoke run) speaks only these
frozen dataclasses. Two implementations sit below it:

* ``agent.runtime.docker.DockerDriver``: the real Docker Engine, the only module that imports the docker SDK;
* ``agent.runtime.fake.FakeDriver``: an in-memory twin for fast unit tests of pure logic.

A shared contract (``tests/driver_contract.py``) runs the same assertions against both, so the fake
cannot drift from the engine's behaviour that the engine relies on.

Design decision: every Driver error is a ``minecs.errors.DriverError`` subclass. A missing object is
``ContainerNotFoundError`` (or ``ImageNotFoundError``); a taken name or a wrong state is
``ContainerConflictError``. Callers never see docker-py or requests exceptions.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

# Docker writes "0001-01-01T00:00:00Z" for a time that never happened.
_ZERO_TIME_PREFIX = "0001-01-01"
_FRACTION = re.compile(r"\.(\d+)")


def parse_docker_time(text: str | None) -> datetime | None:
    """Parse Docker's RFC 3339 nanosecond timestamps; the zero time and empty text give None."""
    if not text or text.startswith(_ZERO_TIME_PREFIX):
        return None
    # Python keeps microseconds: cut the fraction to 6 digits, keep the zone suffix.
    trimmed = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    parsed = datetime.fromisoformat(trimmed.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bridge_gateway_of(
    network: Mapping[str, Any], interface_address: Callable[[str], str | None]
) -> str | None:
    """The host address a bridge network's containers route to, from ``docker network inspect``.

    A Docker Engine on its first boot leaves ``Gateway`` out of ``IPAM.Config`` (moby issue 26799;
    a restart of dockerd fills it in), so after the IPAM ``Gateway`` come the IPv4 address of the
    bridge interface the network names (``com.docker.network.bridge.name``, looked up with
    ``interface_address``), then the first host address of the IPv4 subnet, which is where Docker
    puts the gateway when none is configured.
    """
    configs = [c for c in (network.get("IPAM") or {}).get("Config") or [] if isinstance(c, Mapping)]
    for config in configs:
        if _ipv4(config.get("Gateway")):
            return str(config["Gateway"])
    bridge = (network.get("Options") or {}).get("com.docker.network.bridge.name")
    if bridge:
        found = interface_address(str(bridge))
        if found and _ipv4(found):
            return found
    for config in configs:
        with contextlib.suppress(ValueError, TypeError):
            subnet = ipaddress.ip_network(str(config.get("Subnet")), strict=False)
            if subnet.version == 4 and subnet.num_addresses > 2:
                return str(subnet.network_address + 1)
    return None


def _ipv4(text: object) -> bool:
    try:
        return isinstance(text, str) and ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


class PortProtocol(StrEnum):
    """A port's transport protocol, spelled as Docker and ECS spell it."""

    TCP = "tcp"
    UDP = "udp"


@dataclass(frozen=True, slots=True)
class PortBinding:
    """A container port published on the host. ``host_port`` 0 asks the engine for any free port."""

    container_port: int
    host_port: int = 0
    protocol: PortProtocol = PortProtocol.TCP
    host_ip: str = "0.0.0.0"


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """Docker's health check, in seconds (the driver converts to nanoseconds).

    ``test`` starts with ``CMD`` (exec form) or ``CMD-SHELL`` (run by ``/bin/sh -c``).
    """

    test: tuple[str, ...]
    interval: float = 30.0
    timeout: float = 5.0
    retries: int = 3
    start_period: float = 0.0


@dataclass(frozen=True, slots=True)
class Ulimit:
    name: str
    soft: int
    hard: int


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """What to create. Every member maps to one Docker setting; defaults leave Docker's own."""

    name: str
    image: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortBinding, ...] = ()
    health: HealthConfig | None = None
    network_mode: str = "bridge"
    """``bridge``, ``host``, ``none``, or ``container:<id>`` to join another container's namespace."""
    hostname: str | None = None
    working_dir: str | None = None
    user: str | None = None
    # resources
    cpu_shares: int | None = None
    memory: int | None = None
    """Hard limit in bytes."""
    memory_reservation: int | None = None
    """Soft limit in bytes."""
    memory_swap: int | None = None
    swappiness: int | None = None
    cgroup_parent: str | None = None
    # links and storage
    links: Mapping[str, str] = field(default_factory=dict)
    """Docker container name -> alias."""
    volumes_from: tuple[str, ...] = ()
    """``<container>`` or ``<container>:ro``."""
    binds: tuple[str, ...] = ()
    """``<host path or volume name>:<container path>[:ro]``."""
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    # networking details
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    network_disabled: bool = False
    # security and process
    privileged: bool = False
    read_only: bool = False
    init: bool | None = None
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    sysctls: Mapping[str, str] = field(default_factory=dict)
    ulimits: tuple[Ulimit, ...] = ()
    devices: tuple[str, ...] = ()
    shm_size: int | None = None
    tty: bool = False
    stdin_open: bool = False
    stop_timeout: int | None = None
    log_driver: str | None = None
    log_options: Mapping[str, str] = field(default_factory=dict)


class RunState(StrEnum):
    """Docker's ``State.Status`` values."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"


class Health(StrEnum):
    """Docker's ``State.Health.Status``; NONE when the container has no health check."""

    NONE = "none"
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """What the engine says about one container right now (never cached by the driver)."""

    id: str
    name: str
    image: str
    state: RunState
    labels: Mapping[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""
    pid: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    health: Health = Health.NONE
    ports: tuple[PortBinding, ...] = ()
    restart_count: int = 0

    @property
    def running(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.PAUSED, RunState.RESTARTING)


@dataclass(frozen=True, slots=True)
class ContainerEvent:
    """One Docker container event, e.g. ``start``, ``die`` (with ``exit_code``), ``oom``,
    ``health_status`` (with ``health``), ``destroy``."""

    action: str
    container_id: str
    name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    time_ns: int = 0
    exit_code: int | None = None
    health: Health | None = None


class ExecSession(Protocol):
    """A command running in a container (``docker exec``): its output, its input, its exit status."""

    async def read(self) -> tuple[int, bytes] | None:
        """The next output: ``(1, bytes)`` for stdout, ``(2, bytes)`` for stderr; None once it has ended.

        A TTY session has one stream, so everything is stdout."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close_input(self) -> None:
        """Close the command's stdin (a reader sees end of file)."""
        ...

    async def resize(self, rows: int, cols: int) -> None:
        """Set the terminal size of a TTY session; nothing without a TTY."""
        ...

    async def wait(self) -> int:
        """The exit status, after ``read`` returned None."""
        ...

    async def hang_up(self) -> bool:
        """End a command still running because its caller went away (SIGHUP); whether it was sent."""
        ...

    async def close(self) -> None: ...


class Driver(Protocol):
    """The operations minecs needs from a container engine, in our own types."""

    async def version(self) -> str:
        """The engine's version; raises ``EngineUnavailableError`` when none answers."""
        ...

    async def cgroup_driver(self) -> str:
        """The engine's cgroup driver: ``cgroupfs``, ``systemd``, or ``none`` when there is none."""
        ...

    async def image_present(self, image: str) -> bool: ...

    async def pull(self, image: str) -> None:
        """Pull ``image``; ``ImageNotFoundError`` when no registry has it."""
        ...

    async def create(self, spec: ContainerSpec) -> str:
        """Create a container and return its id; the name must be free."""
        ...

    async def start(self, container_id: str) -> None: ...

    async def inspect(self, container: str) -> ContainerInfo:
        """Look a container up by id or name."""
        ...

    async def find(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        """Every container (running or not) carrying all of ``labels``."""
        ...

    async def states(self, labels: Mapping[str, str]) -> dict[str, tuple[RunState, Health]]:
        """Container id -> (run state, health) of every container carrying all of ``labels``, in one
        call: the engine's periodic resync, which inspects only the containers that disagree."""
        ...

    async def stop(self, container_id: str, grace: float) -> None:
        """Send the stop signal, then SIGKILL after ``grace`` seconds (at least 1).

        Stopping a container that is not running is not an error."""
        ...

    async def remove(self, container_id: str, *, force: bool = False) -> None: ...

    async def logs(self, container_id: str, *, tail: int | None = None) -> list[str]:
        """The container's log lines (stdout and stderr, in order), the last ``tail`` when given."""
        ...

    async def stats(self, container_id: str) -> dict[str, object]:
        """One Docker stats sample (``docker stats --no-stream``'s JSON) of a container."""
        ...

    async def bridge_gateway(self) -> str | None:
        """The gateway address of Docker's default bridge network (where bridge containers reach the host)."""
        ...

    def follow_logs(self, container_id: str, *, tail: int | None = None) -> AsyncGenerator[bytes, None]:
        """The container's output as it is written (``docker logs -f``), from its last ``tail`` lines.

        Ends when the container stops; closing the iterator early stops the reading at once."""
        ...

    async def exec(self, container_id: str, command: Sequence[str], *, tty: bool) -> ExecSession:
        """Start ``command`` in a running container, stdin open; ``ContainerConflictError`` when it
        is not running, ``DriverError`` when the engine cannot start the command."""
        ...

    async def volume_exists(self, name: str) -> bool: ...

    async def create_volume(
        self, name: str, *, driver: str = "local", driver_opts: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        """Create a named volume; an existing one with that name is a ``ContainerConflictError``."""
        ...

    async def remove_volume(self, name: str) -> None:
        """Remove a named volume; a missing one is fine, one in use is a ``ContainerConflictError``."""
        ...

    def subscribe(
        self, labels: Mapping[str, str]
    ) -> AbstractAsyncContextManager[AsyncIterator[ContainerEvent]]:
        """Container events for containers carrying all of ``labels``, from the moment of entry.

        The subscription is live when ``async with`` enters, so a caller can subscribe, then list or
        inspect, and miss nothing in between (list-then-watch). Leaving the block ends the stream.
        """
        ...

    async def close(self) -> None: ...
