"""The native API's admin client: one call to a controller as the admin, over real HTTP.

Below both the CLI (``minecs.cli``) and ``minecs up``, which both call the controller as its admin;
the credential is the data dir's ``credentials`` file or the ``MINECS_ACCESS_KEY_ID`` /
``MINECS_SECRET_ACCESS_KEY`` pair (``minecs.controlplane.auth``). A refusal or no answer is a
``MinecsError`` carrying the controller's code and message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from minecs.controlplane.auth import load_or_create_admin
from minecs.errors import MinecsError


def admin_headers(data_dir: Path) -> dict[str, str]:
    """The native API's admin ``Authorization`` header, from the environment's pair or the data dir's file."""
    admin = load_or_create_admin(data_dir)
    return {"Authorization": f"MinecsAdmin {admin.access_key_id}:{admin.secret_access_key}"}


async def admin_request(endpoint: str, data_dir: Path, method: str, path: str, body: Any = None) -> Any:
    """One call to the controller's native API as the admin; a refusal or no answer is a MinecsError."""
    headers = admin_headers(data_dir)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, endpoint.rstrip("/") + path, json=body, headers=headers) as response,
        ):
            payload = await response.json(content_type=None)
    except (aiohttp.ClientError, ValueError) as exc:
        raise MinecsError(f"controller {endpoint} unreachable: {exc}") from exc
    if response.status >= 400:
        raise MinecsError(f"{payload.get('code')}: {payload.get('message')}")
    return payload
