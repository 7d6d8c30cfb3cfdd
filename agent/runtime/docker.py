"""The real Docker Engine behind the ``Driver`` Protocol: the only module that calls the docker SDK.

(``dockershapes`` builds and reads the JSON shapes, with the SDK's value types; ``dockerexec`` holds
the exec connection.)

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
from docker.utils import kwargs_from_env, parse_repository_tag

from agent.runtime import dockerexec
from agent.runtime.base import (
    ContainerEvent,
    ContainerInfo,
    ContainerSpec,
    ExecSession,
    Health,
    RunState,
    bridge_gateway_of,
)
from agent.runtime.dockershapes import container_event, container_info, create_args, listed_health
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
        self._stopping: dict[str, float] = {}
        """Containers whose stop call is in flight, with the grace period asked for."""

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
        args, host = create_args(spec)
        return {**args, "host_config": self._api.create_host_config(**host)}

    async def start(self, container_id: str) -> None:
        await self._call(f"start container {container_id}", self._api.start, container_id)

    async def inspect(self, container: str) -> ContainerInfo:
        raw = await self._call(f"inspect container {container}", self._api.inspect_container, container)
        return container_info(raw)

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
        return {row["Id"]: (RunState(row["State"]), listed_health(row.get("Status") or "")) for row in rows}

    async def stop(self, container_id: str, grace: float) -> None:
        # docker-py extends the HTTP timeout by the grace period; 304 (already stopped) is success.
        self._stopping[container_id] = grace
        try:
            await self._call(
                f"stop container {container_id}", self._api.stop, container_id, max(1, round(grace))
            )
        finally:
            self._stopping.pop(container_id, None)

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
        if self._stopping:
            # Said so a stop that returns at once is not mistaken for containers stopped: these are not.
            log.info(
                "container stops left in flight",
                containers=len(self._stopping),
                stop_timeout=max(self._stopping.values()),
                finished_by="docker, or the agent's next start",
            )
        self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._api.close()


async def _drain(queue: asyncio.Queue[Any]) -> AsyncIterator[ContainerEvent]:
    while (item := await queue.get()) is not _EVENT_END:
        if isinstance(item, BaseException):
            raise item
        event = container_event(item)
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
