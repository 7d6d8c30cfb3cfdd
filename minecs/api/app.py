"""The aiohttp application: its middlewares, authentication, and the route tables.

Middlewares, outermost first: metrics; ``middleware.refusals`` (every exception becomes an answer in
the request's front end's shape); ``bodies.guard`` (path parameters, query and headers are
checked before any handler reads them); ``wake_on_write``.

Authentication: the native API takes the admin credential as
``Authorization: MinecsAdmin <access key id>:<secret>``; the agent protocol takes a registration
token (``Bearer``) on ``register`` and the instance credential (``MinecsAgent <id>:<secret>``)
everywhere else. A missing or wrong credential is 401, a known caller acting outside its rights 403.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from minecs.api.bodies import guard
from minecs.api.metrics import ControllerMetrics
from minecs.api.middleware import refusals
from minecs.api.relay import Relay, Upload
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.plane import ControlPlane
from minecs.errors import UnauthenticatedError

PLANE = web.AppKey("plane", ControlPlane)
ADMIN = web.AppKey("admin", AdminCredential)
POLL_WAIT = web.AppKey("poll_wait", float)
LOGS: web.AppKey[Relay[Upload]] = web.AppKey("logs")
EXECS: web.AppKey[Relay[web.WebSocketResponse]] = web.AppKey("execs")
WAKE = web.AppKey("wake", asyncio.Event)
ECS_UNSIGNED_LOOPBACK = web.AppKey("ecs_unsigned_loopback", bool)
READ_ONLY = web.RequestKey("read_only", bool)
"""Set on a request whose (POST) operation changes nothing, so it does not wake the reconciler."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
        and hmac.compare_digest(_utf8(key), _utf8(admin.access_key_id))
        and hmac.compare_digest(_utf8(secret), _utf8(admin.secret_access_key))
    )
    if not valid:
        raise UnauthenticatedError("Missing or wrong admin credential.")
    return key


def _utf8(text: str) -> bytes:
    """Bytes to compare in constant time (``compare_digest`` refuses non-ASCII ``str``)."""
    return text.encode("utf-8", "surrogateescape")


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
    app = web.Application(middlewares=[middleware(metrics), refusals, guard, wake_on_write])
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
