"""The route of the ECS front end (see the package docstring): authenticate, dispatch, answer as AWS does."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from minecs.api.bodies import decode_object, printable, read_body
from minecs.api.ecs import clusters, instances, misc, services, taskdefs, tasks
from minecs.api.ecs.common import OPERATIONS, Context, operation_name
from minecs.api.ecs.shaping import Caller, shaped
from minecs.api.ecs.sigv4 import verify
from minecs.api.keys import ADMIN, ECS_UNSIGNED_LOOPBACK, PLANE, READ_ONLY, REQUEST_ID
from minecs.api.middleware import JSON_1_1
from minecs.errors import UnknownOperationError, UnsupportedFeatureError
from minecs.model import jsontext

routes = web.RouteTableDef()
_MODULES = (clusters, instances, misc, services, taskdefs, tasks)  # importing them registers the operations


@routes.post("/")
async def ecs_api(request: web.Request) -> web.StreamResponse:
    """One ECS operation; a refusal is answered by ``middleware.refusals`` in the ECS shape."""
    answer = await _dispatch(request)
    return web.Response(
        body=jsontext.dumps(answer), headers={"x-amzn-RequestId": request[REQUEST_ID]}, content_type=JSON_1_1
    )


async def _dispatch(request: web.Request) -> dict[str, Any]:
    raw = await read_body(request)
    caller_region = _authenticate(request, raw)
    target = request.headers.get("X-Amz-Target", "")
    name = operation_name(target)
    found = OPERATIONS.get(name)
    if found is None and name.isidentifier():
        raise UnsupportedFeatureError(f"{name} is not supported by minecs.")
    if found is None:
        raise UnknownOperationError(f"Unknown operation: {printable(target) or '(no X-Amz-Target header)'}.")
    body = decode_object(raw, empty_is_object=True)
    if found.read_only:
        request[READ_ONLY] = True
    plane = request.app[PLANE]
    region = caller_region or plane.identity.region
    context = Context(plane, region, f"{request.scheme}://{request.host}")
    answer = await found.handler(context, body)
    return shaped(name, answer, Caller(region, plane.identity.region, plane.identity.account))


def _authenticate(request: web.Request, raw: bytes) -> str | None:
    if "Authorization" not in request.headers and request.app[ECS_UNSIGNED_LOOPBACK] and _loopback(request):
        return None
    admin = request.app[ADMIN]
    caller = verify(
        method=request.method,
        path=request.path,
        query=request.query_string,
        headers=request.headers,
        body=raw,
        secret_for=lambda key: admin.secret_access_key if key == admin.access_key_id else None,
        now=datetime.now(UTC),
    )
    return caller.region


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
