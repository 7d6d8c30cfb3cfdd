"""CLI commands that talk to a running controller through the native API, as the admin.

The endpoint is ``--endpoint``, else ``MINECS_ENDPOINT``, else ``http://127.0.0.1:7450``; the admin
credential is read from ``<data-dir>/credentials`` (or ``MINECS_ACCESS_KEY_ID`` /
``MINECS_SECRET_ACCESS_KEY``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import aiohttp

from minecs import settings
from minecs.controlplane.auth import load_or_create_admin
from minecs.errors import MinecsError


async def admin_call(
    args: argparse.Namespace, config: settings.Settings, method: str, path: str, body: Any
) -> Any:
    endpoint = (args.endpoint or os.environ.get("MINECS_ENDPOINT") or "http://127.0.0.1:7450").rstrip("/")
    admin = load_or_create_admin(args.data_dir or config.data_dir)
    headers = {"Authorization": f"MinecsAdmin {admin.access_key_id}:{admin.secret_access_key}"}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, endpoint + path, json=body, headers=headers) as response,
        ):
            payload = await response.json(content_type=None)
    except (aiohttp.ClientError, ValueError) as exc:
        raise MinecsError(f"controller {endpoint} unreachable: {exc}") from exc
    if response.status >= 400:
        raise MinecsError(f"{payload.get('code')}: {payload.get('message')}")
    return payload


async def create_token(args: argparse.Namespace, config: settings.Settings) -> int:
    answer = await admin_call(args, config, "POST", "/v1/tokens", {"ttlSeconds": args.ttl, "uses": args.uses})
    print(answer["token"])
    print(json.dumps({"expiresAt": answer["expiresAt"], "uses": answer["uses"]}), file=sys.stderr)
    return 0
