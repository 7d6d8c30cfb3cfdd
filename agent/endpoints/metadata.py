"""Task metadata endpoint v4 (and its v3 twin), served by the agent as the ECS agent serves it.

Every container gets ``ECS_CONTAINER_METADATA_URI_V4`` (and ``ECS_CONTAINER_METADATA_URI``, v3) naming
``http://<address>:<port>/v4/<endpoint id>``. The address is one the container can reach: the Docker
bridge gateway for bridge and awsvpc-emulated tasks (their pause container sits on the bridge), the
loopback for host-mode tasks; ``none`` tasks get no endpoint, having no network. The id is an HMAC of
the task ARN and container name under a key kept in the agent's data dir: unguessable by other
containers, and the same after an agent restart, so containers created before it keep working.

Paths (``ecs-semantics.md`` §9): ``<uri>`` the container, ``/task``, ``/taskWithTags``, ``/stats``,
``/task/stats``. Keys and status strings are the agent's (``KnownStatus`` names, RFC 3339 times). An
unknown id is a 404 whose JSON string body starts ``V4 container metadata handler: ``.

Choice: the ECS agent listens on 51679 behind 169.254.170.2; minecs listens on the bridge gateway and
127.0.0.1 directly (port ``agent.metadata_port``, ``--metadata-port``; unset, 51679, and when that is
taken, e.g. by a second agent on the same host, an ephemeral port, logged; the URIs carry the port
bound). A port set explicitly that is taken stops the agent (``agent.endpoints.server``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from agent.endpoints.server import SmallServer
from agent.runtime.base import Driver
from minecs.logs import get_logger
from minecs.model.task import ContainerSnapshot, TaskAssignment, TaskSnapshot, service_of

log = get_logger(__name__)
DEFAULT_PORT = 51679


@dataclass(frozen=True)
class Endpoints:
    """Where containers reach the metadata server, by network mode, and how ids are made."""

    key: bytes
    bridge: str | None  # http://<gateway>:<port>
    loopback: str  # http://127.0.0.1:<port>

    def endpoint_id(self, task_arn: str, container: str) -> str:
        return hmac.new(self.key, f"{task_arn}/{container}".encode(), hashlib.sha256).hexdigest()[:32]

    def environment(self, assignment: TaskAssignment, container: str, network_mode: str) -> dict[str, str]:
        base = self.loopback if network_mode == "host" else None if network_mode == "none" else self.bridge
        if base is None:
            return {}
        endpoint_id = self.endpoint_id(assignment.task_arn, container)
        return {
            "ECS_CONTAINER_METADATA_URI_V4": f"{base}/v4/{endpoint_id}",
            "ECS_CONTAINER_METADATA_URI": f"{base}/v3/{endpoint_id}",
        }


def load_key(data_dir: Path | None) -> bytes:
    """The HMAC key for endpoint ids, created once in ``<data-dir>/metadata.key`` (0600)."""
    if data_dir is None:
        return secrets.token_bytes(32)
    path = data_dir / "metadata.key"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    path.write_text(key.hex())
    path.chmod(0o600)
    return key


Lookup = Callable[[], Mapping[str, tuple[TaskAssignment, TaskSnapshot | None]]]
"""Every task the engine runs: task ARN -> (what it was told, its latest snapshot)."""


class MetadataServer:
    def __init__(
        self, driver: Driver, endpoints_key: bytes, lookup: Lookup, *, port: int | None = None
    ) -> None:
        self.driver, self.key, self.lookup, self.port = driver, endpoints_key, lookup, port
        self._server: SmallServer | None = None

    async def start(self) -> Endpoints:
        app = web.Application()
        for version in ("v3", "v4"):
            app.router.add_get(f"/{version}/{{id}}", self._container)
            app.router.add_get(f"/{version}/{{id}}/task", self._task)
            app.router.add_get(f"/{version}/{{id}}/taskWithTags", self._task_with_tags)
            app.router.add_get(f"/{version}/{{id}}/stats", self._stats)
            app.router.add_get(f"/{version}/{{id}}/task/stats", self._task_stats)
        self._server = SmallServer(app, what="task metadata endpoint", flag="--metadata-port")
        port = await self._server.start(self.port, default=DEFAULT_PORT)
        gateway = await self.driver.bridge_gateway()
        bridge = None
        if gateway:
            try:
                await self._server.also_on(gateway, port)
                bridge = f"http://{gateway}:{port}"
            except OSError as exc:
                log.warning(
                    "metadata endpoint not reachable from bridge containers", gateway=gateway, error=str(exc)
                )
        return Endpoints(self.key, bridge, f"http://127.0.0.1:{port}")

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    # ------------------------------------------------------------------ handlers
    def _find(self, request: web.Request) -> tuple[TaskAssignment, TaskSnapshot, str]:
        wanted = request.match_info["id"]
        endpoints = Endpoints(self.key, None, "")
        for assignment, snapshot in self.lookup().values():
            for c in assignment.definition.container_definitions:
                if snapshot is not None and hmac.compare_digest(
                    endpoints.endpoint_id(assignment.task_arn, c.name or ""), wanted
                ):
                    return assignment, snapshot, c.name or ""
        version = request.path.split("/")[1].upper()
        raise web.HTTPNotFound(
            text=json.dumps(f"{version} container metadata handler: unknown endpoint id {wanted}"),
            content_type="application/json",
        )

    async def _container(self, request: web.Request) -> web.Response:
        assignment, snapshot, name = self._find(request)
        return web.json_response(container_json(assignment, snapshot.container(name)))

    async def _task(self, request: web.Request) -> web.Response:
        assignment, snapshot, _ = self._find(request)
        return web.json_response(task_json(assignment, snapshot))

    async def _task_with_tags(self, request: web.Request) -> web.Response:
        assignment, snapshot, _ = self._find(request)
        return web.json_response(
            {**task_json(assignment, snapshot), "TaskTags": {}, "ContainerInstanceTags": {}}
        )

    async def _stats(self, request: web.Request) -> web.Response:
        _, snapshot, name = self._find(request)
        runtime_id = snapshot.container(name).runtime_id
        return web.json_response(await self.driver.stats(runtime_id) if runtime_id else None)

    async def _task_stats(self, request: web.Request) -> web.Response:
        _, snapshot, _ = self._find(request)
        ids = [c.runtime_id for c in snapshot.containers if c.runtime_id]
        return web.json_response({i: await self.driver.stats(i) for i in ids})


# ---------------------------------------------------------------------- response shapes (pure)


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def container_json(assignment: TaskAssignment, c: ContainerSnapshot) -> dict[str, Any]:
    definition = next(d for d in assignment.definition.container_definitions if d.name == c.name)
    arn = assignment.task_arn.replace(":task/", ":container/") + f"/{c.name}"
    out: dict[str, Any] = {
        "DockerId": c.runtime_id or "",
        "Name": c.name,
        "DockerName": c.docker_name or "",
        "Image": definition.image,
        "ImageID": c.image or "",
        "Labels": {
            "com.amazonaws.ecs.cluster": assignment.cluster,
            "com.amazonaws.ecs.container-name": c.name,
            "com.amazonaws.ecs.task-arn": assignment.task_arn,
            "com.amazonaws.ecs.task-definition-family": assignment.definition.family,
            "com.amazonaws.ecs.task-definition-version": str(assignment.definition.revision),
        },
        "DesiredStatus": c.desired_status.value,
        "KnownStatus": c.known_status.name,
        "Limits": {"CPU": definition.cpu, "Memory": definition.memory or 0},
        "CreatedAt": _time(c.created_at),
        "StartedAt": _time(c.started_at),
        "FinishedAt": _time(c.finished_at),
        "Type": "NORMAL",
        "ContainerARN": arn,
        "Networks": [{"NetworkMode": assignment.definition.network_mode.value}],
        "Ports": [
            {
                "ContainerPort": b.container_port,
                "Protocol": b.protocol,
                "HostPort": b.host_port,
                "HostIp": b.bind_ip,
            }
            for b in c.network_bindings
        ],
    }
    if c.exit_code is not None:
        out["ExitCode"] = c.exit_code
    if definition.health_check is not None:
        out["Health"] = {"status": c.health_status.value}
    if definition.restart_policy is not None and definition.restart_policy.enabled:
        out["RestartCount"] = c.restart_count
    return {k: v for k, v in out.items() if v is not None and v != []} | {"Labels": out["Labels"]}


def task_json(assignment: TaskAssignment, snapshot: TaskSnapshot) -> dict[str, Any]:
    td = assignment.definition
    out: dict[str, Any] = {
        "Cluster": assignment.cluster,
        "TaskARN": assignment.task_arn,
        "Family": td.family,
        "Revision": str(td.revision),
        "DesiredStatus": snapshot.desired_status.value,
        "KnownStatus": snapshot.last_status.value,
        "Containers": [container_json(assignment, c) for c in snapshot.containers],
        "LaunchType": assignment.launch_type,
        "PullStartedAt": _time(snapshot.pull_started_at),
        "PullStoppedAt": _time(snapshot.pull_stopped_at),
        "ExecutionStoppedAt": _time(snapshot.execution_stopped_at),
        "AvailabilityZone": "",
    }
    if td.cpu or td.memory:
        out["Limits"] = {
            "CPU": int(td.cpu) / 1024 if td.cpu else None,
            "Memory": int(td.memory) if td.memory else None,
        }
    if service := service_of(assignment.group):
        out["ServiceName"] = service
    if assignment.group:
        out["Group"] = assignment.group
    return {k: v for k, v in out.items() if v is not None}
