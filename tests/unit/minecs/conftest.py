"""Fixtures for the controller's unit tests: a control plane on a temporary SQLite file, its app,
and the app served to the real botocore client (``server``, ``ecs``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from aiohttp.test_utils import TestClient, TestServer

from minecs import logs
from minecs.api.app import build_app
from minecs.controlplane.auth import AdminCredential
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from tests.unit.minecs.apiclient import Client
from tests.unit.minecs.botoclient import ADMIN, AwsCli, Ecs


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A test that configures logging (the CLI's main does) leaves no stream behind for the next one."""
    yield
    structlog.reset_defaults()
    logs.unconfigure_stdlib()


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    opened = await ControlPlane.open(tmp_path, Identity())
    yield opened
    await opened.close()


@pytest.fixture
async def client(plane: ControlPlane) -> AsyncIterator[Client]:
    app = build_app(plane, AdminCredential("AKTEST", "secret"), poll_wait=0.2)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
async def server(plane: ControlPlane) -> AsyncIterator[Client]:
    """The app, signed ECS calls checked against ``botoclient.ADMIN``, on a loopback port."""
    async with TestClient(TestServer(build_app(plane, ADMIN))) as test_client:
        yield test_client


@pytest.fixture
def ecs(server: Client) -> Ecs:
    return Ecs(str(server.make_url("/")))


@pytest.fixture
def aws(server: Client) -> AwsCli:
    """The aws CLI, signing for us-east-1, against the same server as ``ecs``."""
    return AwsCli(str(server.make_url("/")))
