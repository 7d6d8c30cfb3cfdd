"""Service routes of the native API: list, describe, update, delete, and the events of services.

``PATCH /v1/services/{name}`` is UpdateService (``desiredCount``, ``taskDefinition``,
``forceNewDeployment``); ``DELETE /v1/services/{name}?force=true`` is DeleteService, which drains the
service to INACTIVE. ``GET /v1/events`` merges the services' bounded event logs, newest first, like
``kubectl get events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from minecs.api.auth import require_admin
from minecs.api.bodies import json_object
from minecs.api.keys import PLANE
from minecs.api.members import member
from minecs.model.task import service_of

routes = web.RouteTableDef()
MAX_EVENTS = 500


@routes.get("/v1/services")
async def list_services(request: web.Request) -> web.Response:
    require_admin(request)
    plane = request.app[PLANE]
    cluster = (await plane.clusters.get_active(request.query.get("cluster")))["clusterName"]
    return web.json_response({"services": await plane.services.in_cluster(cluster)})


@routes.get("/v1/services/{name}")
async def describe_service(request: web.Request) -> web.Response:
    require_admin(request)
    service = await request.app[PLANE].services.get(request.query.get("cluster"), request.match_info["name"])
    return web.json_response({"service": service})


@routes.patch("/v1/services/{name}")
async def update_service(request: web.Request) -> web.Response:
    require_admin(request)
    body = await json_object(request)
    service = await request.app[PLANE].services.update(
        member(body, "cluster", str),
        request.match_info["name"],
        desired_count=member(body, "desiredCount", int),
        task_definition=member(body, "taskDefinition", str),
        force_new_deployment=bool(member(body, "forceNewDeployment", bool)),
        enable_execute_command=member(body, "enableExecuteCommand", bool),
    )
    return web.json_response({"service": service})


@routes.delete("/v1/services/{name}")
async def delete_service(request: web.Request) -> web.Response:
    require_admin(request)
    force = request.query.get("force", "") in ("1", "true")
    service = await request.app[PLANE].services.delete(
        request.query.get("cluster"), request.match_info["name"], force=force
    )
    return web.json_response({"service": service})


@routes.get("/v1/events")
async def events(request: web.Request) -> web.Response:
    """Service events and task events of the cluster (or of ``?service=``), newest first.

    Task events are read off the stored tasks (created, started, stopped with its reason); they are
    tagged ``kind: task`` and carry the task's service, if any, as ``serviceName``."""
    require_admin(request)
    plane = request.app[PLANE]
    cluster = (await plane.clusters.get_active(request.query.get("cluster")))["clusterName"]
    wanted = request.query.get("service")
    services = (
        [await plane.services.get(cluster, wanted)] if wanted else await plane.services.in_cluster(cluster)
    )
    merged = [
        {**e, "kind": "service", "serviceName": s["serviceName"]} for s in services for e in s["events"]
    ]
    names = {s["serviceName"] for s in services}
    for task in await plane.tasks.in_cluster(cluster):
        service = service_of(task.get("group"))
        if not wanted or service in names:
            merged += task_events(task, service)
    merged.sort(key=lambda e: (e["createdAt"], e["id"]), reverse=True)
    return web.json_response({"events": merged[:MAX_EVENTS]})


def task_events(task: Mapping[str, Any], service: str) -> list[dict[str, Any]]:
    task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
    family = str(task["taskDefinitionArn"]).rsplit("/", 1)[-1]
    moments = [
        ("createdAt", f"(task {task_id}) {family} created."),
        ("startedAt", f"(task {task_id}) {family} started."),
        (
            "stoppedAt",
            f"(task {task_id}) {family} stopped: {task.get('stoppedReason') or 'no reason given'}.",
        ),
    ]
    return [
        {
            "id": f"{task_id}-{member}",
            "createdAt": task[member],
            "message": message,
            "kind": "task",
            "serviceName": service,
        }
        for member, message in moments
        if task.get(member)
    ]
