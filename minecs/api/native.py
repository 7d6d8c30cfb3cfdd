"""The native API (``/v1``), in ECS shapes: apply, tokens, clusters, task definitions, tasks, services
and instances. Logs, events and deletes follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from minecs.api.agent import json_object
from minecs.api.app import PLANE, require_admin
from minecs.controlplane.apply import apply
from minecs.controlplane.clusters import Failure
from minecs.controlplane.tasks import RunRequest
from minecs.errors import ClientError, NotFoundError
from minecs.manifests import parse_documents
from minecs.model.codec import Decoder, encode
from minecs.model.registered import to_json
from minecs.model.task import ContainerOverride
from minecs.model.taskdef import Tag
from minecs.model.wire import ecs_override_from_json
from minecs.validation import parse_task_definition

routes = web.RouteTableDef()
INTERNAL = ("seq", "reserved", "placement", "instanceId")


def public(task: Any) -> dict[str, Any]:
    """A stored task without minecs's bookkeeping members."""
    return {k: v for k, v in task.items() if k not in INTERNAL and v is not None}


def failures(found: list[Failure]) -> list[dict[str, str]]:
    return [{"arn": f.arn, "reason": f.reason} for f in found]


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@routes.post("/v1/tokens")
async def create_token(request: web.Request) -> web.Response:
    require_admin(request)
    body = await json_object(request)
    ttl = body.get("ttlSeconds", 3600)
    uses = body.get("uses", 1)
    if not isinstance(ttl, int | float) or not isinstance(uses, int) or uses < 1 or ttl <= 0:
        raise ClientError("ttlSeconds must be a positive number and uses a positive integer.")
    now = datetime.now(UTC)
    token = await request.app[PLANE].instances.tokens.create(now=now, ttl=timedelta(seconds=ttl), uses=uses)
    return web.json_response(
        {"token": token, "expiresAt": (now + timedelta(seconds=ttl)).timestamp(), "uses": uses}
    )


@routes.post("/v1/taskdefinitions")
async def register_task_definition(request: web.Request) -> web.Response:
    require_admin(request)
    spec = parse_task_definition(await json_object(request))
    registered = await request.app[PLANE].taskdefs.register(spec)
    return web.json_response(
        {"taskDefinition": to_json(registered.definition), "tags": [encode(t) for t in registered.tags]}
    )


def _overrides(body: dict[str, Any]) -> tuple[ContainerOverride, ...]:
    try:
        return tuple(
            ecs_override_from_json(o) for o in (body.get("overrides") or {}).get("containerOverrides", [])
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ClientError(f"overrides.containerOverrides: malformed: {exc!r}") from exc


@routes.post("/v1/tasks")
async def run_task(request: web.Request) -> web.Response:
    require_admin(request)
    body = await json_object(request)
    if not isinstance(body.get("taskDefinition"), str):
        raise ClientError("taskDefinition is required.")
    count = body.get("count", 1)
    if not isinstance(count, int):
        raise ClientError("count must be an integer.")
    tags = tuple(Decoder().decode(Tag, t) for t in body.get("tags") or [])
    request_ = RunRequest(
        task_definition=body["taskDefinition"],
        cluster=body.get("cluster"),
        count=count,
        overrides=_overrides(body),
        started_by=body.get("startedBy"),
        group=body.get("group"),
        tags=tags,
    )
    tasks = await request.app[PLANE].tasks.run(request_)
    return web.json_response({"tasks": [public(t) for t in tasks], "failures": []})


@routes.post("/v1/tasks/{id}/stop")
async def stop_task(request: web.Request) -> web.Response:
    require_admin(request)
    body = await json_object(request)
    task = await request.app[PLANE].tasks.stop(
        body.get("cluster"), request.match_info["id"], body.get("reason")
    )
    return web.json_response({"task": public(task)})


@routes.get("/v1/tasks")
async def list_tasks(request: web.Request) -> web.Response:
    require_admin(request)
    plane = request.app[PLANE]
    cluster = (await plane.clusters.get_active(request.query.get("cluster")))["clusterName"]
    return web.json_response({"tasks": [public(t) for t in await plane.tasks.in_cluster(cluster)]})


@routes.get("/v1/tasks/{id}")
async def describe_task(request: web.Request) -> web.Response:
    require_admin(request)
    found, missing = await request.app[PLANE].tasks.describe(
        request.query.get("cluster"), [request.match_info["id"]]
    )
    if not found:
        raise NotFoundError(f"Task {failures(missing)[0]['arn']} not found.", code="ClientException")
    return web.json_response({"task": public(found[0])})


@routes.get("/v1/instances")
async def list_instances(request: web.Request) -> web.Response:
    require_admin(request)
    plane = request.app[PLANE]
    cluster = (await plane.clusters.get_active(request.query.get("cluster")))["clusterName"]
    instances = await plane.instances.in_cluster(cluster)
    return web.json_response(
        {"containerInstances": [{k: v for k, v in i.items() if k != "lastSeen"} for i in instances]}
    )


@routes.post("/v1/apply")
async def apply_documents(request: web.Request) -> web.Response:
    """Body: ``{"documents": [<manifest or ECS JSON>, ...]}``; every problem is reported before anything changes."""
    require_admin(request)
    body = await json_object(request)
    raw = body.get("documents")
    if not isinstance(raw, list):
        raise ClientError("documents must be a list of manifests.")
    documents = parse_documents((doc, f"documents[{index}]") for index, doc in enumerate(raw))
    results = await apply(request.app[PLANE], documents)
    return web.json_response({"results": [r.__dict__ for r in results]})


@routes.get("/v1/services")
async def list_services(request: web.Request) -> web.Response:
    require_admin(request)
    plane = request.app[PLANE]
    cluster = (await plane.clusters.get_active(request.query.get("cluster")))["clusterName"]
    services = await plane.services.in_cluster(cluster)
    return web.json_response({"services": services})


@routes.get("/v1/services/{name}")
async def describe_service(request: web.Request) -> web.Response:
    require_admin(request)
    service = await request.app[PLANE].services.get(request.query.get("cluster"), request.match_info["name"])
    return web.json_response({"service": service})


@routes.get("/v1/clusters")
async def list_clusters(request: web.Request) -> web.Response:
    require_admin(request)
    plane = request.app[PLANE]
    found, _ = await plane.clusters.describe(
        [arn.rsplit("/", 1)[-1] for arn in await plane.clusters.list_arns()]
    )
    return web.json_response({"clusters": found})


@routes.get("/v1/taskdefinitions")
async def list_task_definitions(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response({"taskDefinitionArns": await request.app[PLANE].taskdefs.list_arns()})
