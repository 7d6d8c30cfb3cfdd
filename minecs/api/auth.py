"""Who is calling the API: the admin credential (native ``/v1``) and an agent's instance credential.

The native API takes the admin credential as ``Authorization: MinecsAdmin <access key id>:<secret>``;
the agent protocol takes a registration token (``Bearer``) on ``register`` and the instance
credential (``MinecsAgent <id>:<secret>``) everywhere else. A missing or wrong credential is 401, a
known caller acting outside its rights 403. The ECS front end's SigV4 check is ``ecs.sigv4``; the
credentials themselves (hashing, tokens) are ``minecs.controlplane.auth`` and the instance service.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from minecs.api.keys import ADMIN, PLANE
from minecs.errors import AccessDeniedError, UnauthenticatedError


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


def agent_credential(request: web.Request) -> tuple[str, str, str]:
    """``(scheme, instance id, secret)`` of the Authorization header; the id only for ``MinecsAgent``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    instance_id, _, secret = value.partition(":")
    return (
        scheme,
        instance_id if scheme == "MinecsAgent" else "",
        secret if scheme == "MinecsAgent" else value,
    )


async def instance_of(request: web.Request) -> str:
    """The authenticated instance, which must be the one the path names."""
    scheme, instance_id, secret = agent_credential(request)
    if scheme != "MinecsAgent" or not instance_id:
        raise UnauthenticatedError("Missing or wrong instance credential.")
    await request.app[PLANE].instances.credentials.verify(instance_id, secret)
    if request.match_info["id"] != instance_id:
        raise AccessDeniedError("An agent may act only for its own container instance.")
    await request.app[PLANE].instances.touch(instance_id)
    return instance_id
