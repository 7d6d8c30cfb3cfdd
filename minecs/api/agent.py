"""The agent protocol (docs/protocol.md): register, long-poll assignments, reports, heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from minecs.api.auth import agent_credential, instance_of
from minecs.api.bodies import json_object
from minecs.api.keys import EXECS, LOGS, PLANE, POLL_WAIT
from minecs.api.members import objects
from minecs.controlplane.instances import Registration
from minecs.errors import ClientError, UnauthenticatedError
from minecs.model.wire import snapshot_from_json, snapshot_to_json

routes = web.RouteTableDef()


def _registration(body: dict[str, Any]) -> Registration:
    try:
        resources = body["resources"]
        version = body.get("versionInfo") or {}
        return Registration(
            cluster=str(body.get("cluster") or "default"),
            cpu=int(resources["cpu"]),
            memory=int(resources["memory"]),
            reserved_ports=tuple(int(p) for p in resources.get("ports", [])),
            agent_version=str(version.get("agentVersion", "")),
            docker_version=str(version.get("dockerVersion", "")),
            attributes={str(a["name"]): str(a.get("value", "")) for a in body.get("attributes", [])},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ClientError(f"Malformed registration: {exc!r}") from exc


@routes.post("/agent/v1/register")
async def register(request: web.Request) -> web.Response:
    plane = request.app[PLANE]
    scheme, instance_id, secret = agent_credential(request)
    # Credentials first: a caller without them learns nothing, not even what a good body looks like.
    if scheme == "Bearer":
        await plane.instances.tokens.check(secret, now=datetime.now(UTC))
    elif scheme == "MinecsAgent":
        await plane.instances.credentials.verify(instance_id, secret)
    else:
        raise UnauthenticatedError("Registration needs a registration token or the instance's credential.")
    registration = _registration(await json_object(request))
    await plane.clusters.get_active(registration.cluster)
    if scheme == "Bearer":
        registered = await plane.instances.register(registration, token=secret)
    else:
        registered = await plane.instances.register(registration, instance_id=instance_id, secret=secret)
    answer: dict[str, Any] = {
        "instanceId": registered.instance["instanceId"],
        "containerInstanceArn": registered.instance["containerInstanceArn"],
        "cluster": registration.cluster,
        "heartbeatSeconds": plane.instances.agent_timeout.total_seconds() / 3,
    }
    if registered.credential is not None:
        answer["credential"] = registered.credential
    return web.json_response(answer)


@routes.get("/agent/v1/instances/{id}/assignments")
async def assignments(request: web.Request) -> web.Response:
    instance_id = await instance_of(request)
    plane = request.app[PLANE]
    try:
        since = int(request.query.get("since", "0"))
        wait = min(float(request.query.get("wait", request.app[POLL_WAIT])), request.app[POLL_WAIT])
    except ValueError as exc:
        raise ClientError("since must be an integer and wait a number of seconds") from exc
    version = await plane.versions.wait_past(instance_id, since, wait)
    await plane.instances.touch(instance_id)
    return web.json_response(
        {
            "version": version,
            **(await plane.tasks.assignments(instance_id)).to_json(),
            "logRequests": request.app[LOGS].waiting_for(instance_id),
            "execRequests": request.app[EXECS].waiting_for(instance_id),
        }
    )


@routes.post("/agent/v1/instances/{id}/reports")
async def reports(request: web.Request) -> web.Response:
    instance_id = await instance_of(request)
    body = await json_object(request)
    acknowledged: dict[str, int] = {}
    for path, raw in objects(body, "reports"):
        try:
            snapshot = snapshot_to_json(snapshot_from_json(raw))
        except (KeyError, TypeError, ValueError) as exc:
            raise ClientError(f"{path}: malformed task state: {exc!r}") from exc
        acknowledged[snapshot["taskArn"]] = await request.app[PLANE].tasks.report(instance_id, snapshot)
    return web.json_response({"acknowledged": acknowledged})


@routes.post("/agent/v1/instances/{id}/heartbeat")
async def heartbeat(request: web.Request) -> web.Response:
    await instance_of(request)
    return web.json_response({"ok": True})
