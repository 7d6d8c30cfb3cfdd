"""The real Docker Engine behind the ``Driver`` Protocol: the only module that imports the docker SDK.

docker-py is synchronous and untyped, so every call runs in a thread and returns our own frozen
types from ``agent.runtime.base``; docker errors become ``minecs.errors.DriverError`` subclasses in
``_mapped`` and nowhere else.

Design decisions:

* The low-level ``docker.APIClient`` is used, not the model layer: models cache stale ``attrs`` and
  cost an extra inspect per create. We always inspect explicitly when we need the truth.
* Calls run on the driver's own thread pool (``workers``, default 16) instead of the loop's default
  executor (``min(32, cores + 4)`` = 6 threads here), so that a task starting six independent containers
  is not serialised by the pool, and the pool size is a setting. This is ``asyncio.to_thread`` in spirit:
  the loop never blocks. The threads are daemon threads (``minecs.aiotasks.DaemonThreads``): a stop call
  waits up to the container's stop timeout, and must not hold the agent's exit for that long.
* The event stream is pumped by one dedicated daemon thread per subscription into an asyncio
  queue. Closing the iterator closes the HTTP response, which ends the thread: no orphan remains.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions
from docker.types import LogConfig
from docker.types import Ulimit as DockerUlimit
from docker.utils import kwargs_from_env, parse_repository_tag

from agent.runtime import dockerexec
from agent.runtime.base import (
    ContainerEvent,
    ContainerInfo,
    ContainerSpec,
    ExecSession,
    Health,
    PortBinding,
    PortProtocol,
    RunState,
    bridge_gateway_of,
    parse_docker_time,
)
from minecs.aiotasks import DaemonThreads
from minecs.errors import (
    ContainerConflictError,
    ContainerNotFoundError,
    DriverError,
    EngineUnavailableError,
    ImageNotFoundError,
)
from minecs.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")
_NANOS = 1_000_000_000
_EVENT_END = object()


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Translate docker-py and requests errors into ours; ``what`` names the operation."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise ImageNotFoundError(f"{what}: {_explain(exc)}") from exc
    except docker.errors.NotFound as exc:
        raise ContainerNotFoundError(f"{what}: {_explain(exc)}") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            raise ContainerConflictError(f"{what}: {_explain(exc)}") from exc
        raise DriverError(f"{what}: {_explain(exc)}") from exc
    except (requests.exceptions.ConnectionError, docker.errors.DockerException) as exc:
        raise EngineUnavailableError(f"{what}: no Docker Engine answers ({exc})") from exc


_SIOCGIFADDR = 0x8915


def interface_ipv4(name: str) -> str | None:
    """The IPv4 address of the host's network interface ``name`` (Linux), or None if it has none."""
    request = struct.pack("256s", name.encode()[:15])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            answer = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, request)
    except OSError:
        return None
    return socket.inet_ntoa(answer[20:24])


def _explain(exc: docker.errors.APIError) -> str:
    return str(exc.explanation or exc)


class DockerDriver:
    """``Driver`` over a real Docker Engine reached through ``base_url`` (or ``DOCKER_HOST``)."""

    def __init__(
        self, api: docker.APIClient, workers: int = 16, base_url: str = "unix:///var/run/docker.sock"
    ) -> None:
        self._api = api
        self._base_url = base_url
        self._pool = DaemonThreads(workers, "docker")

    @classmethod
    async def connect(
        cls, base_url: str | None = None, *, workers: int = 16, http_timeout: float = 60
    ) -> DockerDriver:
        """Connect and negotiate the API version; ``EngineUnavailableError`` when no engine answers.

        ``base_url`` defaults to ``DOCKER_HOST``, then to the local socket.
        """
        kwargs: dict[str, Any] = dict(kwargs_from_env())
        if base_url:
            kwargs["base_url"] = base_url
        kwargs.setdefault("base_url", "unix:///var/run/docker.sock")

        def build() -> docker.APIClient:
            with _mapped("connect"):
                return docker.APIClient(
                    version="auto", timeout=int(http_timeout), max_pool_size=workers, **kwargs
                )

        api = await asyncio.get_running_loop().run_in_executor(None, build)
        return cls(api, workers, kwargs["base_url"])

    async def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            with _mapped(what):
                return fn(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    async def version(self) -> str:
        info = await self._call("version", self._api.version)
        return str(info.get("Version", "unknown"))

    async def cgroup_driver(self) -> str:
        info = await self._call("info", self._api.info)
        return str(info.get("CgroupDriver") or "none")

    async def image_present(self, image: str) -> bool:
        try:
            await self._call(f"inspect image {image}", self._api.inspect_image, image)
        except (ImageNotFoundError, ContainerNotFoundError):
            return False
        return True

    async def pull(self, image: str) -> None:
        try:
            await self._call(f"pull {image}", self._pull_blocking, image)
        except EngineUnavailableError:
            raise
        except DriverError as exc:
            # Registry unreachable, unknown repository, denied: for us all mean "no such image".
            raise ImageNotFoundError(exc.message) from exc

    def _pull_blocking(self, image: str) -> None:
        repository, tag = parse_repository_tag(image)
        for line in self._api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            # The engine reports some failures inside a 200 stream, not as an HTTP error.
            if "error" in line:
                raise DriverError(str(line["error"]))

    async def create(self, spec: ContainerSpec) -> str:
        created = await self._call(
            f"create container {spec.name}", self._api.create_container, **self._create_args(spec)
        )
        return str(created["Id"])

    def _create_args(self, spec: ContainerSpec) -> dict[str, Any]:
        bindings: dict[int | str, Any] = {}
        for p in spec.ports:
            bindings.setdefault(f"{p.container_port}/{p.protocol.value}", []).append(
                (p.host_ip, p.host_port or None)
            )
        host_config = self._api.create_host_config(**_host_config_args(spec, bindings))
        return {
            "image": spec.image,
            "name": spec.name,
            "command": list(spec.command) if spec.command is not None else None,
            "entrypoint": list(spec.entrypoint) if spec.entrypoint is not None else None,
            "environment": dict(spec.env) or None,
            "labels": dict(spec.labels),
            "ports": [(p.container_port, p.protocol.value) for p in spec.ports] or None,
            "healthcheck": _health_args(spec),
            "hostname": spec.hostname,
            "working_dir": spec.working_dir,
            "user": spec.user,
            "network_disabled": spec.network_disabled,
            "tty": spec.tty,
            "stdin_open": spec.stdin_open,
            "stop_timeout": spec.stop_timeout,
            "host_config": host_config,
        }

    async def start(self, container_id: str) -> None:
        await self._call(f"start container {container_id}", self._api.start, container_id)

    async def inspect(self, container: str) -> ContainerInfo:
        raw = await self._call(f"inspect container {container}", self._api.inspect_container, container)
        return _info(raw)

    async def _listed(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """The container list's rows (running or not) for every container carrying all of ``labels``."""
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        rows: list[dict[str, Any]] = await self._call(
            "list containers", self._api.containers, all=True, filters=filters
        )
        return rows

    async def find(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        infos = []
        for row in await self._listed(labels):
            # A container removed between the list and the inspect is simply gone.
            with contextlib.suppress(ContainerNotFoundError):
                infos.append(await self.inspect(row["Id"]))
        return infos

    async def states(self, labels: Mapping[str, str]) -> dict[str, tuple[RunState, Health]]:
        rows = await self._listed(labels)
        return {row["Id"]: (RunState(row["State"]), _listed_health(row.get("Status") or "")) for row in rows}

    async def stop(self, container_id: str, grace: float) -> None:
        # docker-py extends the HTTP timeout by the grace period; 304 (already stopped) is success.
        await self._call(f"stop container {container_id}", self._api.stop, container_id, max(1, round(grace)))

    async def remove(self, container_id: str, *, force: bool = False) -> None:
        await self._call(
            f"remove container {container_id}",
            self._api.remove_container,
            container_id,
            force=force,
        )

    async def logs(self, container_id: str, *, tail: int | None = None) -> list[str]:
        def read() -> bytes:
            raw = self._api.logs(
                container_id, stdout=True, stderr=True, stream=False, tail=tail if tail else "all"
            )
            return raw if isinstance(raw, bytes) else b""

        text = await self._call(f"logs of container {container_id}", read)
        return text.decode(errors="replace").splitlines()

    async def stats(self, container_id: str) -> dict[str, object]:
        sample = await self._call(
            f"stats of container {container_id}", self._api.stats, container_id, stream=False
        )
        return dict(sample)

    async def bridge_gateway(self) -> str | None:
        network = await self._bridge_network()
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, bridge_gateway_of, network, interface_ipv4
        )

    async def _bridge_network(self) -> Mapping[str, Any]:
        network: Mapping[str, Any] = await self._call(
            "inspect network bridge", self._api.inspect_network, "bridge"
        )
        return network

    async def follow_logs(self, container_id: str, *, tail: int | None = None) -> AsyncGenerator[bytes, None]:
        def open_stream() -> Any:
            # docker-py opens the stream, then inspects the container; when that inspect fails (no
            # such container) the stream's socket is never closed. Inspecting first means the
            # usual failure opens no stream at all.
            self._api.inspect_container(container_id)
            return self._api.logs(
                container_id, stdout=True, stderr=True, stream=True, follow=True, tail=tail if tail else "all"
            )

        stream = await self._call(f"logs of container {container_id}", open_stream)
        loop = asyncio.get_running_loop()
        try:
            while (chunk := await loop.run_in_executor(self._pool, next, stream, None)) is not None:
                yield chunk
        finally:
            # Closing the socket ends a read still parked in a worker thread, so no thread outlives us.
            await loop.run_in_executor(self._pool, _close_stream, stream)

    async def exec(self, container_id: str, command: Sequence[str], *, tty: bool) -> ExecSession:
        """Create the exec through the SDK, start it over ``agent.runtime.dockerexec``'s own connection."""
        created = await self._call(
            f"exec in container {container_id}",
            self._api.exec_create,
            container_id,
            list(command),
            stdin=True,
            tty=tty,
        )
        exec_id = str(created["Id"])
        streams = await dockerexec.start(self._base_url, self._api.api_version, exec_id, tty=tty)

        async def inspect() -> Mapping[str, Any]:
            found: Mapping[str, Any] = await self._call(
                f"inspect exec {exec_id}", self._api.exec_inspect, exec_id
            )
            return found

        async def resize(rows: int, cols: int) -> None:
            await self._call(
                f"resize exec {exec_id}", self._api.exec_resize, exec_id, height=rows, width=cols
            )

        return dockerexec.DockerExecSession(
            streams, container_id=container_id, tty=tty, inspect=inspect, resize=resize
        )

    async def volume_exists(self, name: str) -> bool:
        try:
            await self._call(f"inspect volume {name}", self._api.inspect_volume, name)
        except ContainerNotFoundError:
            return False
        return True

    async def create_volume(
        self, name: str, *, driver: str = "local", driver_opts: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        if await self.volume_exists(name):
            raise ContainerConflictError(f"create volume {name}: a volume with that name exists")
        await self._call(
            f"create volume {name}",
            self._api.create_volume,
            name,
            driver=driver,
            driver_opts=dict(driver_opts) or None,
            labels=dict(labels) or None,
        )

    async def remove_volume(self, name: str) -> None:
        with contextlib.suppress(ContainerNotFoundError):
            await self._call(f"remove volume {name}", self._api.remove_volume, name)

    @contextlib.asynccontextmanager
    async def subscribe(self, labels: Mapping[str, str]) -> AsyncIterator[AsyncIterator[ContainerEvent]]:
        filters = {"type": ["container"], "label": [f"{k}={v}" for k, v in labels.items()]}
        # The GET returns once the engine has subscribed us: from here on nothing is missed.
        stream = await self._call("events", self._api.events, filters=filters, decode=True)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        closing = threading.Event()
        pump = threading.Thread(
            target=_pump_events,
            args=(stream, loop, queue, closing),
            name="docker-events",
            daemon=True,
        )
        pump.start()
        try:
            yield _drain(queue)
        finally:
            closing.set()
            with contextlib.suppress(Exception):
                stream.close()
            await loop.run_in_executor(None, pump.join, 5.0)

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._api.close()


async def _drain(queue: asyncio.Queue[Any]) -> AsyncIterator[ContainerEvent]:
    while (item := await queue.get()) is not _EVENT_END:
        if isinstance(item, BaseException):
            raise item
        event = _event(item)
        if event is not None:
            yield event


def _close_stream(stream: Any) -> None:
    """Close a docker-py log stream and the HTTP response under it (``close`` alone leaves the socket)."""
    stream.close()
    stream._response.close()


def _pump_events(
    stream: Iterator[dict[str, Any]],
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[Any],
    closing: threading.Event,
) -> None:
    """Thread body: move decoded events into the loop's queue until the stream ends or is closed."""

    def put(item: Any) -> None:
        # The loop may already be closed when a late event arrives during shutdown.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    try:
        for raw in stream:
            put(raw)
    except Exception as exc:
        if not closing.is_set():
            put(EngineUnavailableError(f"docker event stream broke: {exc}"))
    finally:
        put(_EVENT_END)


def _host_config_args(spec: ContainerSpec, bindings: dict[int | str, Any]) -> dict[str, Any]:
    """docker-py ``create_host_config`` keywords; unset members are left out so Docker's defaults hold."""
    args: dict[str, Any] = {
        "port_bindings": bindings or None,
        "network_mode": spec.network_mode,
        "cpu_shares": spec.cpu_shares,
        "mem_limit": spec.memory,
        "mem_reservation": spec.memory_reservation,
        "memswap_limit": spec.memory_swap,
        "mem_swappiness": spec.swappiness,
        "cgroup_parent": spec.cgroup_parent,
        "links": dict(spec.links) or None,
        "volumes_from": list(spec.volumes_from) or None,
        "binds": list(spec.binds) or None,
        "tmpfs": dict(spec.tmpfs) or None,
        "dns": list(spec.dns) or None,
        "dns_search": list(spec.dns_search) or None,
        "extra_hosts": dict(spec.extra_hosts) or None,
        "privileged": spec.privileged or None,
        "read_only": spec.read_only or None,
        "init": spec.init,
        "cap_add": list(spec.cap_add) or None,
        "cap_drop": list(spec.cap_drop) or None,
        "security_opt": list(spec.security_opt) or None,
        "sysctls": dict(spec.sysctls) or None,
        "ulimits": [DockerUlimit(name=u.name, soft=u.soft, hard=u.hard) for u in spec.ulimits] or None,
        "devices": list(spec.devices) or None,
        "shm_size": spec.shm_size,
    }
    if spec.log_driver:
        args["log_config"] = LogConfig(type=spec.log_driver, config=dict(spec.log_options))
    return {k: v for k, v in args.items() if v is not None}


def _health_args(spec: ContainerSpec) -> dict[str, Any] | None:
    if spec.health is None:
        return None
    h = spec.health
    return {
        "test": list(h.test),
        "interval": int(h.interval * _NANOS),
        "timeout": int(h.timeout * _NANOS),
        "retries": h.retries,
        "start_period": int(h.start_period * _NANOS),
    }


def _info(raw: Mapping[str, Any]) -> ContainerInfo:
    state = raw.get("State") or {}
    config = raw.get("Config") or {}
    health = (state.get("Health") or {}).get("Status")
    running = bool(state.get("Running"))
    return ContainerInfo(
        id=raw["Id"],
        name=str(raw.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        state=RunState(state.get("Status", "created")),
        labels=dict(config.get("Labels") or {}),
        exit_code=None if running or state.get("Status") == "created" else state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
        error=str(state.get("Error") or ""),
        pid=int(state.get("Pid") or 0),
        started_at=parse_docker_time(state.get("StartedAt")),
        finished_at=parse_docker_time(state.get("FinishedAt")),
        health=Health(health) if health else Health.NONE,
        ports=_bound_ports((raw.get("NetworkSettings") or {}).get("Ports") or {}),
        restart_count=int(raw.get("RestartCount") or 0),
    )


def _bound_ports(ports: Mapping[str, Any]) -> tuple[PortBinding, ...]:
    bound = []
    for key, hosts in sorted(ports.items()):
        port, _, proto = key.partition("/")
        for host in hosts or ():
            bound.append(
                PortBinding(
                    container_port=int(port),
                    host_port=int(host["HostPort"]),
                    protocol=PortProtocol(proto or "tcp"),
                    host_ip=host.get("HostIp", ""),
                )
            )
    return tuple(bound)


def _event(raw: Mapping[str, Any]) -> ContainerEvent | None:
    if raw.get("Type") != "container":
        return None
    action = str(raw.get("Action") or raw.get("status") or "")
    actor = raw.get("Actor") or {}
    attributes = dict(actor.get("Attributes") or {})
    health: Health | None = None
    # Docker reports health as one action string, "health_status: healthy".
    if action.startswith("health_status"):
        health = Health(action.partition(":")[2].strip() or "none")
        action = "health_status"
    exit_code = attributes.pop("exitCode", None)
    name = attributes.pop("name", "")
    attributes.pop("image", None)
    return ContainerEvent(
        action=action,
        container_id=str(actor.get("ID") or raw.get("id") or ""),
        name=name,
        labels=attributes,
        time_ns=int(raw.get("timeNano") or 0),
        exit_code=int(exit_code) if exit_code is not None else None,
        health=health,
    )


def _listed_health(status: str) -> Health:
    """The health in a container list's ``Status`` text: "Up 3 minutes (healthy)", "(health: starting)"."""
    if status.endswith("(healthy)"):
        return Health.HEALTHY
    if status.endswith("(unhealthy)"):
        return Health.UNHEALTHY
    if status.endswith("(health: starting)"):
        return Health.STARTING
    return Health.NONE
