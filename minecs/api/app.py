"""The aiohttp application: its middlewares, its state and the route tables, put together.

Middlewares, outermost first: metrics; ``middleware.refusals`` (every exception becomes an answer
in the request's front end's shape); ``bodies.guard`` (path parameters, query and headers are
checked before any handler reads them); ``middleware.wake_on_write``.

Design decision: this module is the top of ``minecs.api``. It imports every route module here at
the top, and nothing below imports it back: the route modules read the app's state through
``minecs.api.keys`` and authenticate through ``minecs.api.auth``. Only the wiring above
(``minecs.controller``, the tests) calls ``build_app``.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CollectorRegistry

from minecs.api import agent, native, onhost, services
from minecs.api.bodies import guard
from minecs.api.ecs import front
from minecs.api.keys import ADMIN, ECS_UNSIGNED_LOOPBACK, EXECS, LOGS, PLANE, POLL_WAIT, WAKE
from minecs.api.metrics import ControllerMetrics
from minecs.api.metrics import middleware as metrics_middleware
from minecs.api.metrics import route as metrics_route
from minecs.api.middleware import refusals, wake_on_write
from minecs.api.relay import Relay
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.plane import ControlPlane


def build_app(
    plane: ControlPlane,
    admin: AdminCredential,
    *,
    poll_wait: float = 20.0,
    wake: asyncio.Event | None = None,
    ecs_unsigned_loopback: bool = False,
    metrics: ControllerMetrics | None = None,
) -> web.Application:
    metrics = metrics or ControllerMetrics(CollectorRegistry())
    app = web.Application(middlewares=[metrics_middleware(metrics), refusals, guard, wake_on_write])
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
