"""The route of the ECS front end (see the package docstring): authenticate, dispatch, answer as AWS does."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from minecs.api.app import ADMIN, ECS_UNSIGNED_LOOPBACK, PLANE, READ_ONLY
from minecs.api.ecs import clusters, instances, misc, services, taskdefs, tasks
from minecs.api.ecs.common import OPERATIONS, Context, operation_name
from minecs.api.ecs.sigv4 import verify
from minecs.errors import EcsError, MinecsError, UnsupportedFeatureError, ValidationError
from minecs.logs import get_logger
from minecs.model import jsontext

log = get_logger(__name__)
routes = web.RouteTableDef()
JSON_1_1 = "application/x-amz-json-1.1"
_MODULES = (clusters, instances, misc, services, taskdefs, tasks)  # importing them registers the operations


class UnknownOperationError(EcsError):
    code = "UnknownOperationException"


class SerializationError(EcsError):
    code = "SerializationException"


@routes.post("/")
async def ecs_api(request: web.Request) -> web.StreamResponse:
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    try:
        answer = await _dispatch(request)
    except ValidationError as exc:
        return _error(exc.code, _with_paths(exc), 400, headers)
    except EcsError as exc:
        return _error(
            exc.code, exc.message, 400 if exc.status < 500 and exc.status != 403 else exc.status, headers
        )
    except MinecsError as exc:
        return _error("ClientException", exc.message, 400, headers)
    except Exception:
        log.exception("ECS request failed", target=request.headers.get("X-Amz-Target"), request_id=request_id)
        return _error("ServerException", "internal error", 500, headers)
    return _json(answer, 200, headers)


async def _dispatch(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    caller_region = _authenticate(request, raw)
    target = request.headers.get("X-Amz-Target", "")
    name = operation_name(target)
    found = OPERATIONS.get(name)
    if found is None and name.isidentifier():
        raise UnsupportedFeatureError(f"{name} is not supported by minecs.")
    if found is None:
        raise UnknownOperationError(f"Unknown operation: {target or '(no X-Amz-Target header)'}.")
    try:
        body = jsontext.loads(raw or b"{}")
    except ValueError as exc:
        raise SerializationError("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise SerializationError("The request body must be a JSON object.")
    if found.read_only:
        request[READ_ONLY] = True
    plane = request.app[PLANE]
    context = Context(plane, caller_region or plane.identity.region, f"{request.scheme}://{request.host}")
    return await found.handler(context, body)


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


def _with_paths(exc: ValidationError) -> str:
    """ECS sends one message; every problem is in it, each with its member path."""
    return "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems)


def _error(code: str, message: str, status: int, headers: Mapping[str, str]) -> web.Response:
    return _json({"__type": code, "message": message}, status, headers)


def _json(answer: Mapping[str, Any], status: int, headers: Mapping[str, str]) -> web.Response:
    return web.Response(body=jsontext.dumps(answer), status=status, headers=headers, content_type=JSON_1_1)
