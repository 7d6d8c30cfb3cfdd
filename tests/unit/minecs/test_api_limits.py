"""Signatures, files, limits (issue 15, section 4): what the API refuses, and how a full disk is answered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from minecs.api.app import build_app
from minecs.controlplane.plane import ControlPlane
from minecs.store import StoreError
from minecs.store.sqlite import SqliteStore
from tests.taskdefs import container, taskdef
from tests.unit.minecs.wire import ADMIN, AUTH, signed

Client = TestClient[Any, Any]


@pytest.fixture
async def client(plane: ControlPlane) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(plane, ADMIN, poll_wait=0.2))) as test_client:
        yield test_client


async def ecs(client: Client, operation: str, members: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(members).encode()
    response = await client.post("/", data=raw, headers=signed(str(client.make_url("/")), operation, raw))
    return response.status, await response.json(content_type=None)


async def fill_the_disk(store: SqliteStore) -> None:
    """SQLITE_FULL from now on: the database may not grow by a single page."""

    def cap() -> None:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")

    await store._run(cap)


async def test_a_full_disk_is_a_500_server_exception_naming_no_file_and_reads_still_answer(
    client: Client, plane: ControlPlane, tmp_path: Path
) -> None:
    assert isinstance(plane.store, SqliteStore)
    await fill_the_disk(plane.store)
    big = taskdef(container(environment=[{"name": f"V{i}", "value": "x" * 200} for i in range(200)]))
    native = await client.post("/v1/taskdefinitions", json=big, headers=AUTH)
    native_answer = await native.json()
    status, answer = await ecs(client, "RegisterTaskDefinition", big)
    assert (native.status, native_answer["code"], status, answer["__type"]) == (
        500,
        "ServerException",
        500,
        "ServerException",
    )
    assert str(tmp_path) not in native_answer["message"] + answer["message"]
    assert "minecs.db" not in native_answer["message"] + answer["message"]
    assert (await client.get("/v1/clusters", headers=AUTH)).status == 200
    assert (await ecs(client, "DescribeClusters", {"clusters": ["default"]}))[0] == 200


async def test_a_store_error_names_no_file(plane: ControlPlane, tmp_path: Path) -> None:
    assert isinstance(plane.store, SqliteStore)
    await fill_the_disk(plane.store)
    with pytest.raises(StoreError) as raised:
        await plane.store.create("cluster", "big", {"pad": "x" * 100_000})
    assert "full" in raised.value.message
    assert str(tmp_path) not in raised.value.message
