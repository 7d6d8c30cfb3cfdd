"""The real botocore client against the in-process app, for the ECS front end's unit tests.

``Ecs`` signs with SigV4 as the admin; its (synchronous) calls run in a thread, off the test's
event loop. The ``server`` and ``ecs`` fixtures that serve and drive it live in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from agent.link.registration import CAPABILITIES
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.instances import Registration
from minecs.controlplane.plane import ControlPlane

ADMIN = AdminCredential("AKIAMINECSTEST000001", "a-secret-only-this-test-knows")


class Ecs:
    """A boto3 ECS client pointed at the in-process server; ``call`` runs it off the event loop."""

    def __init__(
        self,
        url: str,
        secret: str = ADMIN.secret_access_key,
        key: str = ADMIN.access_key_id,
        region: str = "us-east-1",
    ) -> None:
        self.client = boto3.client(
            "ecs",
            endpoint_url=url,
            region_name=region,
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


class AwsCli:
    """The aws CLI (``python -m awscli ecs ...``, JSON output) against the in-process server, as a subprocess.

    It runs while the test's event loop keeps serving; ``region`` is the CLI's ``--region``, the
    region its SigV4 credential scope names.
    """

    def __init__(self, url: str, region: str = "us-east-1") -> None:
        self.url, self.region = url, region

    async def __call__(self, *args: str, region: str | None = None) -> Any:
        status, out, err = await self.run(*args, region=region)
        assert status == 0, err
        return json.loads(out) if out.strip() else {}

    async def error(self, *args: str) -> str:
        """The CLI's error line (``An error occurred (Code) when calling the Op operation: message``)."""
        status, _, err = await self.run(*args)
        assert status != 0
        return err.strip().splitlines()[-1]

    async def run(self, *args: str, region: str | None = None) -> tuple[int, str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "AWS_ACCESS_KEY_ID": ADMIN.access_key_id,
            "AWS_SECRET_ACCESS_KEY": ADMIN.secret_access_key,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": "1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "awscli",
            "ecs",
            *args,
            "--endpoint-url",
            self.url,
            "--region",
            region or self.region,
            "--output",
            "json",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        return process.returncode or 0, out.decode(), err.decode()
