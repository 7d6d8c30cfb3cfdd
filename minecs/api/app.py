"""The aiohttp application: error mapping, authentication, and the two route tables.

Authentication: the native API takes the admin credential as
``Authorization: MinecsAdmin <access key id>:<secret>``; the agent protocol takes a registration
token (``Bearer``) on ``register`` and the instance credential (``MinecsAgent <id>:<secret>``)
everywhere else. A missing or wrong credential is 401, a known caller acting outside its rights 403.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from minecs.api.metrics import ControllerMetrics
from minecs.api.relay import Relay, Upload
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.plane import ControlPlane
from minecs.errors import EcsError, MinecsError, UnauthenticatedError, ValidationError
from minecs.logs import get_logger

log = get_logger(__name__)

PLANE = web.AppKey("plane", ControlPlane)
ADMIN = web.AppKey("admin", AdminCredential)
POLL_WAIT = web.AppKey("poll_wait", float)
LOGS: web.AppKey[Relay[Upload]] = web.AppKey("logs")
EXECS: web.AppKey[Relay[web.WebSocketResponse]] = web.AppKey("execs")
WAKE = web.AppKey("wake", asyncio.Event)
ECS_UNSIGNED_LOOPBACK = web.AppKey("ecs_unsigned_loopback", bool)
READ_ONLY = "minecs.read_only"
"""Set on a request whose (POST) operation changes nothing, so it does not wake the reconciler."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(exc: MinecsError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": getattr(exc, "code", "ClientException"), "message": exc.message}
    if isinstance(exc, ValidationError):
        body["problems"] = [{"path": p.path, "message": p.message, "code": p.code} for p in exc.problems]
    return body


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except EcsError as exc:
        return web.json_response(error_body(exc), status=exc.status)
    except MinecsError as exc:
        return web.json_response(error_body(exc), status=400)
    except Exception:
        log.exception("request failed", path=request.path)
        return web.json_response({"code": "ServerException", "message": "internal error"}, status=500)


@web.middleware
async def wake_on_write(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A write that succeeded (an API change, an agent's state report) wakes the reconcile loop at once.

    The reconciler's own writes do not pass through here, so it never wakes itself."""
    response = await handler(request)
    if request.method != "GET" and response.status < 400 and not request.get(READ_ONLY):
        request.app[WAKE].set()
    return response


def require_admin(request: web.Request) -> str:
    """Check the admin credential; the access key id that passed (the principal, for audit lines)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    key, _, secret = value.partition(":")
    admin = request.app[ADMIN]
    valid = (
        scheme == "MinecsAdmin"
        and hmac.compare_digest(key, admin.access_key_id)
        and hmac.compare_digest(secret, admin.secret_access_key)
    )
    if not valid:
        raise UnauthenticatedError("Missing or wrong admin credential.")
    return key


def build_app(
    plane: ControlPlane,
    admin: AdminCredential,
    *,
    poll_wait: float = 20.0,
    wake: asyncio.Event | None = None,
    ecs_unsigned_loopback: bool = False,
    metrics: ControllerMetrics | None = None,
) -> web.Application:
    from minecs.api import agent, native, onhost, services
    from minecs.api.ecs import front
    from minecs.api.metrics import middleware
    from minecs.api.metrics import route as metrics_route

    metrics = metrics or ControllerMetrics(CollectorRegistry())
    app = web.Application(middlewares=[middleware(metrics), errors, wake_on_write])
    app[WAKE] = wake or asyncio.Event()
    app[ECS_UNSIGNED_LOOPBACK] = ecs_unsigned_loopback
    app[PLANE] = plane
    app[ADMIN] = admin
    app[POLL_WAIT] = poll_wait
    app[LOGS] = Relay("log")
    app[EXECS] = Relay("exec")
    app.add_routes(agent.routes)
    app.add_routes(native.routes)
    app.add_routes(onhost.routes)
    app.add_routes(services.routes)
    app.add_routes(front.routes)
    app.add_routes([metrics_route(metrics, plane)])
    return app
