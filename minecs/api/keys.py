"""The typed keys of the API's state: what the app holds (``AppKeys``) and what a request carries.

Every route module reads the control plane, the admin credential and the relays through these
keys, and ``app.build_app`` fills them; keeping them here, below both, is what lets ``app.py``
import the route modules at its top without any of them importing ``app.py`` back.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from minecs.api.relay import Relay, Upload
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.plane import ControlPlane

# AppKeys: set once by build_app, read by the route modules and middlewares.
PLANE = web.AppKey("plane", ControlPlane)
ADMIN = web.AppKey("admin", AdminCredential)
POLL_WAIT = web.AppKey("poll_wait", float)
LOGS: web.AppKey[Relay[Upload]] = web.AppKey("logs")
EXECS: web.AppKey[Relay[web.WebSocketResponse]] = web.AppKey("execs")
WAKE = web.AppKey("wake", asyncio.Event)
ECS_UNSIGNED_LOOPBACK = web.AppKey("ecs_unsigned_loopback", bool)

# RequestKeys: set while one request is handled.
READ_ONLY = web.RequestKey("read_only", bool)
"""Set on a request whose (POST) operation changes nothing, so it does not wake the reconciler."""
REQUEST_ID = web.RequestKey("request_id", str)
"""The ``x-amzn-RequestId`` of an ECS request, set by ``middleware.refusals`` before the handler runs."""
