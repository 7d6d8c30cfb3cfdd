"""An in-memory ``Driver`` for fast unit tests of the logic above the seam.

It keeps containers in a dict and emits the same events the engine emits (create, start, die,
health_status, destroy), so event-driven code can be exercised without Docker. Tests steer it with
the ``exit``, ``set_health`` and ``vanish`` helpers, which stand for things that happen inside a real
container or behind the agent's back.

``exec`` runs a tiny shell: ``sh -c`` scripts of ``;``-separated ``cat``, ``echo WORDS [>&2]``
and ``exit N`` statements (a bare command is one statement), enough for the contract's sessions.

It honours the parts of the engine contract that ``tests/driver_contract.py`` checks against both
drivers: unique names, errors for unknown ids and missing images, stop of a stopped container is a
no-op, dynamic host ports are assigned on start. It does not simulate resource limits or networking.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from agent.runtime.base import (
    ContainerEvent,
    ContainerInfo,
    ContainerSpec,
    Health,
    RunState,
    bridge_gateway_of,
)
from minecs.aiotasks import guard
from minecs.errors import ContainerConflictError, ContainerNotFoundError, ImageNotFoundError

# What a killed process exits with: 128 + SIGKILL, and 128 + SIGTERM for a graceful stop.
_EXIT_SIGTERM = 143


class FakeDriver:
    """``Driver`` twin; ``images`` lists what is "cached", ``pullable`` what a registry would give."""

    def __init__(self, images: set[str] | None = None, pullable: set[str] | None = None) -> None:
        self.images = set(images or ())
        self.pullable = set(pullable or ())
        self.calls: list[tuple[str, str]] = []
        self._containers: dict[str, ContainerInfo] = {}
        self._specs: dict[str, ContainerSpec] = {}
        self._subscribers: list[tuple[Mapping[str, str], asyncio.Queue[ContainerEvent]]] = []
        self._ports = itertools.count(32768)
        self.volumes: dict[str, dict[str, object]] = {}
        self.output: dict[str, list[str]] = {}
        # As a first-boot engine answers ``docker network inspect bridge``: no Gateway in IPAM.
        self.bridge_network: dict[str, Any] = {
            "Name": "bridge",
            "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": "172.17.0.0/16"}]},
            "Options": {"com.docker.network.bridge.name": "docker0"},
        }
        self.interfaces: dict[str, str] = {"docker0": "172.17.0.1"}

    # ------------------------------------------------------------------ Driver
    async def version(self) -> str:
        return "fake"

    async def cgroup_driver(self) -> str:
        return "none"

    async def image_present(self, image: str) -> bool:
        self.calls.append(("image_present", image))
        return image in self.images

    async def pull(self, image: str) -> None:
        self.calls.append(("pull", image))
        if image not in self.pullable:
            raise ImageNotFoundError(f"pull {image}: repository does not exist or no registry")
        self.images.add(image)

    async def create(self, spec: ContainerSpec) -> str:
        self.calls.append(("create", spec.name))
        if spec.image not in self.images:
            raise ImageNotFoundError(f"create container {spec.name}: No such image: {spec.image}")
        if any(c.name == spec.name for c in self._containers.values()):
            raise ContainerConflictError(
                f'create container {spec.name}: Conflict. The container name "/{spec.name}" is already in use'
            )
        container_id = secrets.token_hex(32)
        self._specs[container_id] = spec
        self._containers[container_id] = ContainerInfo(
            id=container_id,
            name=spec.name,
            image=spec.image,
            state=RunState.CREATED,
            labels=dict(spec.labels),
        )
        self._emit("create", container_id)
        return container_id

    async def start(self, container_id: str) -> None:
        self.calls.append(("start", container_id))
        info = self._get(container_id)
        if info.running:
            return
        spec = self._specs[info.id]
        self._containers[info.id] = replace(
            info,
            state=RunState.RUNNING,
            exit_code=None,
            pid=4242,
            started_at=datetime.now(UTC),
            health=Health.STARTING if spec.health else Health.NONE,
            ports=tuple(replace(p, host_port=p.host_port or next(self._ports)) for p in spec.ports),
        )
        self._emit("start", info.id)

    async def inspect(self, container: str) -> ContainerInfo:
        self.calls.append(("inspect", container))
        return self._get(container)

    async def find(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        return [c for c in self._containers.values() if _matches(c.labels, labels)]

    async def states(self, labels: Mapping[str, str]) -> dict[str, tuple[RunState, Health]]:
        self.calls.append(("states", ""))
        return {c.id: (c.state, c.health) for c in self._containers.values() if _matches(c.labels, labels)}

    async def stop(self, container_id: str, grace: float) -> None:
        self.calls.append(("stop", container_id))
        if self._get(container_id).running:
            self.exit(container_id, _EXIT_SIGTERM)

    async def remove(self, container_id: str, *, force: bool = False) -> None:
        info = self._get(container_id)
        if info.running and not force:
            raise ContainerConflictError(
                f"remove container {container_id}: You cannot remove a running container"
            )
        if info.running:
            self.exit(info.id, 137)
        del self._containers[info.id]
        del self._specs[info.id]
        self._emit("destroy", info.id, info=info)

    async def logs(self, container_id: str, *, tail: int | None = None) -> list[str]:
        lines = self.output.get(self._get(container_id).id, [])
        return lines[-tail:] if tail else list(lines)

    async def stats(self, container_id: str) -> dict[str, object]:
        info = self._get(container_id)
        return {"id": info.id, "name": f"/{info.name}", "memory_stats": {}, "cpu_stats": {}, "networks": {}}

    async def bridge_gateway(self) -> str | None:
        return bridge_gateway_of(self.bridge_network, self.interfaces.get)

    async def follow_logs(self, container_id: str, *, tail: int | None = None) -> AsyncGenerator[bytes, None]:
        container_id = self._get(container_id).id
        sent = max(0, len(self.output.get(container_id, [])) - tail) if tail else 0
        while True:
            lines = self.output.get(container_id, [])
            if len(lines) > sent:
                yield "".join(f"{line}\n" for line in lines[sent:]).encode()
                sent = len(lines)
            if not self._containers[container_id].running:
                return
            await asyncio.sleep(0.02)

    async def exec(self, container_id: str, command: Sequence[str], *, tty: bool) -> FakeExecSession:
        info = self._get(container_id)
        if not info.running:
            raise ContainerConflictError(f"exec in container {container_id}: it is not running")
        script = command[2] if list(command[:2]) == ["sh", "-c"] and len(command) > 2 else " ".join(command)
        return FakeExecSession([s.split() for s in script.split(";") if s.strip()], tty=tty)

    async def volume_exists(self, name: str) -> bool:
        return name in self.volumes

    async def create_volume(
        self, name: str, *, driver: str = "local", driver_opts: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        if name in self.volumes:
            raise ContainerConflictError(f"create volume {name}: a volume with that name exists")
        self.volumes[name] = {"driver": driver, "driver_opts": dict(driver_opts), "labels": dict(labels)}

    async def remove_volume(self, name: str) -> None:
        self.volumes.pop(name, None)

    @contextlib.asynccontextmanager
    async def subscribe(self, labels: Mapping[str, str]) -> AsyncIterator[AsyncIterator[ContainerEvent]]:
        queue: asyncio.Queue[ContainerEvent] = asyncio.Queue()
        entry = (dict(labels), queue)
        self._subscribers.append(entry)
        try:
            yield _drain(queue)
        finally:
            self._subscribers.remove(entry)

    async def close(self) -> None:
        self._subscribers.clear()

    # ------------------------------------------------------------------ test steering
    def exit(self, container_id: str, code: int, *, oom: bool = False, quiet: bool = False) -> None:
        """The container's main process ends with ``code`` (as if it exited or was killed).

        ``quiet`` drops the events, as when the agent's event stream missed them."""
        info = self._get(container_id)
        self._containers[info.id] = replace(
            info,
            state=RunState.EXITED,
            exit_code=code,
            oom_killed=oom,
            pid=0,
            finished_at=datetime.now(UTC),
            ports=(),
        )
        if quiet:
            return
        if oom:
            self._emit("oom", info.id)
        self._emit("die", info.id, exit_code=code)

    def set_health(self, container_id: str, health: Health, *, quiet: bool = False) -> None:
        """``quiet`` drops the event, as when the agent's event stream missed it."""
        info = self._get(container_id)
        self._containers[info.id] = replace(info, health=health)
        if not quiet:
            self._emit("health_status", info.id, health=health)

    def vanish(self, container_id: str) -> None:
        """The container is removed behind the agent's back, with no event seen."""
        del self._containers[self._get(container_id).id]

    def spec_of(self, container_id: str) -> ContainerSpec:
        return self._specs[self._get(container_id).id]

    # ------------------------------------------------------------------ internals
    def _get(self, container: str) -> ContainerInfo:
        if container in self._containers:
            return self._containers[container]
        for info in self._containers.values():
            if info.name == container or (len(container) >= 12 and info.id.startswith(container)):
                return info
        raise ContainerNotFoundError(f"inspect container {container}: No such container")

    def _emit(
        self,
        action: str,
        container_id: str,
        *,
        info: ContainerInfo | None = None,
        exit_code: int | None = None,
        health: Health | None = None,
    ) -> None:
        known = info or self._containers[container_id]
        event = ContainerEvent(
            action=action,
            container_id=known.id,
            name=known.name,
            labels=dict(known.labels),
            time_ns=_now_ns(),
            exit_code=exit_code,
            health=health,
        )
        for labels, queue in self._subscribers:
            if _matches(known.labels, labels):
                queue.put_nowait(event)


async def _drain(queue: asyncio.Queue[ContainerEvent]) -> AsyncIterator[ContainerEvent]:
    while True:
        yield await queue.get()


def _matches(have: Mapping[str, str], want: Mapping[str, str]) -> bool:
    return all(have.get(k) == v for k, v in want.items())


def _now_ns() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000_000)


class FakeExecSession:
    """``ExecSession`` twin running the fake's tiny shell (see the module docstring)."""

    def __init__(self, statements: list[list[str]], *, tty: bool) -> None:
        self._tty = tty
        self._input: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._output: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self.code: int | None = None
        self.size: tuple[int, int] | None = None
        self._run = asyncio.create_task(
            guard("fake exec", functools.partial(self._interpret, statements)), name="fake exec"
        )

    async def _interpret(self, statements: list[list[str]]) -> None:
        code = 0
        for words in statements:
            if words == ["cat"]:
                while (chunk := await self._input.get()) is not None:
                    await self._output.put((1, chunk))
            elif words[0] == "echo":
                to_stderr = words[-1] == ">&2"
                text = " ".join(words[1:-1] if to_stderr else words[1:]) + "\n"
                # A terminal has one stream: what goes to stderr arrives as stdout, as from the engine.
                await self._output.put((2 if to_stderr and not self._tty else 1, text.encode()))
            elif words[0] == "exit":
                code = int(words[1])
                break
            else:
                missing = f'exec: "{words[0]}": executable file not found in $PATH\r\n'
                await self._output.put((1, missing.encode()))
                code = 126  # what the engine answers (20.10) when the program does not exist
                break
        self.code = code
        await self._output.put(None)

    async def read(self) -> tuple[int, bytes] | None:
        return await self._output.get()

    async def write(self, data: bytes) -> None:
        await self._input.put(data)

    async def close_input(self) -> None:
        await self._input.put(None)

    async def resize(self, rows: int, cols: int) -> None:
        if self._tty:
            self.size = (rows, cols)

    async def wait(self) -> int:
        await asyncio.wait({self._run})
        return self.code if self.code is not None else 129

    async def hang_up(self) -> bool:
        if self._run.done():
            return False
        self._run.cancel()
        await self._output.put(None)
        return True

    async def close(self) -> None:
        self._run.cancel()
