"""The real botocore client against the in-process app, for the ECS front end's unit tests.

``Ecs`` signs with SigV4 as the admin; its (synchronous) calls run in a thread, off the test's
event loop. The ``server`` and ``ecs`` fixtures that serve and drive it live in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from agent.daemon import CAPABILITIES
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.instances import Registration
from minecs.controlplane.plane import ControlPlane

ADMIN = AdminCredential("AKIAMINECSTEST000001", "a-secret-only-this-test-knows")


class Ecs:
    """A boto3 ECS client pointed at the in-process server; ``call`` runs it off the event loop."""

    def __init__(
        self, url: str, secret: str = ADMIN.secret_access_key, key: str = ADMIN.access_key_id
    ) -> None:
        self.client = boto3.client(
            "ecs",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    async def __call__(self, operation: str, **members: Any) -> Any:
        method: Callable[..., Any] = getattr(self.client, operation)
        return await asyncio.to_thread(method, **members)

    async def error(self, operation: str, **members: Any) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as caught:
            await self(operation, **members)
        error = caught.value.response["Error"]
        return error["Code"], error["Message"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


async def add_instance(plane: ControlPlane, memory: int = 2048, *, agent: bool = False) -> str:
    """A connected instance of ``default``; with ``agent``, advertising what the minecs agent can run."""
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    attributes = dict.fromkeys(CAPABILITIES, "") if agent else None
    registered = await plane.instances.register(
        Registration("default", 2048, memory, attributes=attributes), token=token
    )
    return str(registered.instance["instanceId"])
