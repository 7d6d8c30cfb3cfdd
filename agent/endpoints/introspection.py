"""The ECS agent's introspection API on 127.0.0.1:51678: ``/v1/metadata`` and ``/v1/tasks``.

Tools written for ECS hosts (and people with curl) ask the local agent who it is and what it runs:
``/v1/metadata`` answers ``Cluster``, ``ContainerInstanceArn`` and ``Version``; ``/v1/tasks`` lists
every task with its containers, and ``?taskarn=`` or ``?dockerid=`` narrows it to one task (404 when
none matches), as the ECS agent does. Loopback only: it says what runs here, to this host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from agent.endpoints.server import SmallServer
from minecs.model.task import TaskAssignment, TaskSnapshot

DEFAULT_PORT = 51678
Lookup = Callable[[], Mapping[str, tuple[TaskAssignment, TaskSnapshot | None]]]


def build_app(*, cluster: str, instance_arn: str, version: str, lookup: Lookup) -> web.Application:
    async def metadata(request: web.Request) -> web.Response:
        return web.json_response(
            {"Cluster": cluster, "ContainerInstanceArn": instance_arn, "Version": version}
        )

    async def tasks(request: web.Request) -> web.Response:
        shown = [task_json(a, s) for a, s in lookup().values()]
        wanted_arn, wanted_docker = request.query.get("taskarn"), request.query.get("dockerid")
        if wanted_arn is None and wanted_docker is None:
            return web.json_response({"Tasks": shown})
        for task in shown:
            ids = {c["DockerId"] for c in task["Containers"]}
            if task["Arn"] == wanted_arn or any(wanted_docker and i.startswith(wanted_docker) for i in ids):
                return web.json_response(task)
        return web.json_response({}, status=404)

    app = web.Application()
    app.router.add_get("/v1/metadata", metadata)
    app.router.add_get("/v1/tasks", tasks)
    return app


def task_json(assignment: TaskAssignment, snapshot: TaskSnapshot | None) -> dict[str, Any]:
    td = assignment.definition
    containers = snapshot.containers if snapshot else ()
    return {
        "Arn": assignment.task_arn,
        "DesiredStatus": snapshot.desired_status.value if snapshot else assignment.desired_status.value,
        "KnownStatus": snapshot.last_status.value if snapshot else "NONE",
        "Family": td.family,
        "Version": str(td.revision),
        "Containers": [
            {"DockerId": c.runtime_id or "", "DockerName": c.docker_name or "", "Name": c.name}
            for c in containers
        ],
    }


async def serve(app: web.Application, port: int | None = None) -> tuple[SmallServer, int]:
    """Listen on 127.0.0.1:``port`` (None: 51678, or any free port while a second agent holds it);
    the server and the port bound."""
    server = SmallServer(app, what="introspection API", flag="--introspection-port")
    return server, await server.start(port, default=DEFAULT_PORT)
