"""The native API (``/v1``), in ECS shapes: apply, tokens, clusters, task definitions, tasks and
instances. Services live in ``minecs.api.services``, task logs and exec in ``minecs.api.onhost``.

Deletes follow ECS: a task definition revision is deregistered (INACTIVE, still describable), a
cluster is deleted only when nothing is left in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from minecs.api.auth import require_admin
from minecs.api.bodies import json_object
from minecs.api.keys import PLANE
from minecs.api.members import member
from minecs.api.runrequest import run_request
from minecs.api.shapes import instance_shape, task_shape
from minecs.controlplane.apply import apply
from minecs.controlplane.clusters import Failure
from minecs.errors import ClientError, NotFoundError
from minecs.manifests import parse_documents
from minecs.model.registered import to_json
from minecs.validation import parse_task_definition

routes = web.RouteTableDef()


def public(task: Any) -> dict[str, Any]:
    """A stored task as the native API shows it (with ``placementReason``)."""
    return task_shape(task, placement_reason=True)


def failures(found: list[Failure]) -> list[dict[str, str]]:
    return [{"arn": f.arn, "reason": f.reason} for f in found]


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


MAX_TOKEN_TTL = 366 * 24 * 3600
"""Choice: a registration token lives at most a year (a longer-lived one is a standing credential)."""
MAX_TOKEN_USES = 1_000_000


def _number(body: dict[str, Any], name: str, *, default: float, most: float, integer: bool = False) -> float:
    """A positive number member (an integer when ``integer``), at most ``most``."""
    value = body.get(name, default)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 < value <= most:
        kind = "a positive integer" if integer else "a positive number"
        raise ClientError(f"{name}: must be {kind}, at most {most:g}.")
    return value


@routes.post("/v1/tokens")
async def create_token(request: web.Request) -> web.Response:
    require_admin(request)
    body = await json_object(request)
    ttl = _number(body, "ttlSeconds", default=3600, most=MAX_TOKEN_TTL)
    uses = int(_number(body, "uses", default=1, most=MAX_TOKEN_USES, integer=True))
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
    return web.json_response(registered.body)


@routes.post("/v1/tasks")
async def run_task(request: web.Request) -> web.Response:
    """RunTask, or StartTask when ``containerInstances`` names where (one task on each)."""
    require_admin(request)
    tasks = await request.app[PLANE].tasks.run(run_request(await json_object(request)))
    return web.json_response({"tasks": [public(t) for t in tasks], "failures": []})


@routes.post("/v1/tasks/{id}/stop")
async def stop_task(request: web.Request) -> web.Response:
    require_admin(request)
    body = await json_object(request)
    task = await request.app[PLANE].tasks.stop(
        member(body, "cluster", str), request.match_info["id"], member(body, "reason", str)
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
    instances = await plane.tasks.described_instances(cluster)
    return web.json_response({"containerInstances": [instance_shape(i) for i in instances]})


@routes.post("/v1/apply")
async def apply_documents(request: web.Request) -> web.Response:
    """Body: ``{"documents": [<manifest or ECS JSON>, ...], "missingOnly": false, "dryRun": false}``;
    every problem is reported before anything changes. ``missingOnly`` creates what does not exist
    and skips the rest; ``dryRun`` answers what apply would do, with ``live`` and ``wanted``, and
    writes nothing."""
    require_admin(request)
    body = await json_object(request)
    raw = member(body, "documents", list, required=True) or []
    missing_only = bool(member(body, "missingOnly", bool))
    dry_run = bool(member(body, "dryRun", bool))
    documents = parse_documents((doc, f"documents[{index}]") for index, doc in enumerate(raw))
    results = await apply(request.app[PLANE], documents, missing_only=missing_only, dry_run=dry_run)
    shown = ("kind", "name", "outcome", "detail", *(("live", "wanted") if dry_run else ()))
    return web.json_response({"results": [{k: getattr(r, k) for k in shown} for r in results]})


@routes.get("/v1/clusters/{name}")
async def describe_cluster(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(
        {"cluster": await request.app[PLANE].clusters.get_active(request.match_info["name"])}
    )


@routes.get("/v1/taskdefinitions/{reference}")
async def describe_task_definition(request: web.Request) -> web.Response:
    require_admin(request)
    registered = await request.app[PLANE].taskdefs.describe(request.match_info["reference"])
    return web.json_response(registered.body)


@routes.get("/v1/instances/{id}")
async def describe_instance(request: web.Request) -> web.Response:
    require_admin(request)
    instance = await request.app[PLANE].instances.get(request.match_info["id"].rsplit("/", 1)[-1])
    return web.json_response({"containerInstance": instance_shape(instance)})


@routes.delete("/v1/clusters/{name}")
async def delete_cluster(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(
        {"cluster": await request.app[PLANE].clusters.delete(request.match_info["name"])}
    )


@routes.delete("/v1/taskdefinitions/{reference}")
async def deregister_task_definition(request: web.Request) -> web.Response:
    """``family:revision`` deregisters that revision; a bare family deregisters every ACTIVE one."""
    require_admin(request)
    taskdefs = request.app[PLANE].taskdefs
    reference = request.match_info["reference"]
    targets = [reference] if ":" in reference else await taskdefs.list_arns(family=reference)
    if not targets:
        raise ClientError("The specified task definition does not exist.")
    done = [to_json(await taskdefs.deregister(t.rsplit("/", 1)[-1])) for t in targets]
    return web.json_response({"taskDefinitions": done})


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
