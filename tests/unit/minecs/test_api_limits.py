"""Signatures, files, limits (issue 15, section 4): what the API refuses, and how a full disk is answered."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict

from minecs.api.app import build_app
from minecs.api.ecs.sigv4 import verify
from minecs.controlplane.plane import ControlPlane
from minecs.errors import InvalidSignatureError, StoreError
from minecs.store.sqlite import SqliteStore
from tests.taskdefs import container, taskdef
from tests.unit.minecs.wire import ADMIN, AUTH, TARGET, signed

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

    def cap(db: sqlite3.Connection) -> None:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")

    await store._writer.submit(cap)  # the one connection that writes


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


async def signed_call(
    client: Client, operation: str, members: dict[str, Any], **signing: Any
) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(members).encode()
    headers = signed(str(client.make_url("/")), operation, raw, **signing)
    response = await client.post("/", data=raw, headers=headers)
    return response.status, await response.json(content_type=None)


async def test_a_request_signed_without_x_amz_target_cannot_be_retargeted(
    client: Client, plane: ControlPlane
) -> None:
    await plane.clusters.ensure_default()
    raw = json.dumps({"cluster": "default"}).encode()
    headers = signed(str(client.make_url("/")), "DescribeClusters", raw, unsigned=("x-amz-target",))
    headers["X-Amz-Target"] = TARGET + "DeleteCluster"  # what a man in the middle would change
    response = await client.post("/", data=raw, headers=headers)
    answer = await response.json(content_type=None)
    assert (response.status, answer["__type"]) == (403, "InvalidSignatureException")
    assert answer["message"] == "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    assert (await plane.clusters.get_active("default"))["status"] == "ACTIVE"


async def test_a_request_signed_without_host_is_refused(client: Client) -> None:
    status, answer = await signed_call(client, "ListClusters", {}, unsigned=("host",))
    assert (status, answer["__type"]) == (403, "InvalidSignatureException")
    assert answer["message"] == "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


async def test_a_credential_scoped_to_another_service_is_refused(client: Client) -> None:
    status, answer = await signed_call(client, "ListClusters", {}, service="s3")
    assert (status, answer["__type"]) == (403, "InvalidSignatureException")
    assert answer["message"] == "Credential should be scoped to correct service: 'ecs'. "


@pytest.mark.parametrize("region", ["nowhere", "US-EAST-1", "us_east_1", "us-east-", "x" * 40])
async def test_a_credential_scoped_to_a_malformed_region_is_refused(client: Client, region: str) -> None:
    status, answer = await signed_call(client, "ListClusters", {}, region=region)
    assert (status, answer["__type"]) == (403, "InvalidSignatureException")
    assert answer["message"] == "Credential should be scoped to a valid region. "


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-5", "eusc-de-east-1"]
)
async def test_any_well_formed_region_is_served(client: Client, region: str) -> None:
    assert (await signed_call(client, "ListClusters", {}, region=region))[0] == 200


def test_sigv4_verification_over_a_raw_non_utf8_header_byte_is_a_signature_mismatch() -> None:
    """The canonical request is rebuilt from the bytes as sent; nothing raises UnicodeEncodeError."""
    headers = CIMultiDict(signed("http://127.0.0.1:1/", "ListClusters"))
    headers["Host"] = "127.0.0.1:1"
    headers["X-Amz-Target"] += "\udcff"
    with pytest.raises(InvalidSignatureError, match="does not match"):
        verify(
            method="POST",
            path="/",
            query="",
            headers=headers,
            body=b"{}",
            secret_for=lambda key: ADMIN.secret_access_key,
            now=datetime.now(UTC),
        )


def padded_taskdef(total: int) -> dict[str, Any]:
    """A task definition whose compact JSON is about ``total`` bytes (environment values pad it)."""
    pads = [{"name": f"V{i}", "value": "x" * 1000} for i in range(total // 1024)]
    return taskdef(container(environment=pads))


async def test_a_task_definition_over_64_kib_is_refused_with_ecs_words(client: Client) -> None:
    status, answer = await ecs(client, "RegisterTaskDefinition", padded_taskdef(70 * 1024))
    assert (status, answer["__type"]) == (400, "ClientException")
    assert answer["message"].startswith("Actual length: '")
    assert answer["message"].endswith("'. Max allowed length is '65536' bytes.")
    native = await client.post("/v1/taskdefinitions", json=padded_taskdef(70 * 1024), headers=AUTH)
    assert (native.status, (await native.json())["code"]) == (400, "ClientException")


async def test_a_task_definition_under_64_kib_is_registered(client: Client) -> None:
    assert (await ecs(client, "RegisterTaskDefinition", padded_taskdef(60 * 1024)))[0] == 200


async def test_container_overrides_over_8192_characters_are_refused_with_ecs_words(client: Client) -> None:
    await ecs(client, "RegisterTaskDefinition", taskdef(container()))
    overrides = {"containerOverrides": [{"name": "app", "environment": [{"name": "A", "value": "x" * 8200}]}]}
    status, answer = await ecs(client, "RunTask", {"taskDefinition": "web", "overrides": overrides})
    assert (status, answer["__type"], answer["message"]) == (
        400,
        "InvalidParameterException",
        "Container Overrides length must be at most 8192",
    )


@pytest.mark.parametrize(
    ("tags", "path"),
    [
        ([{"key": "k" * 129, "value": "v"}], "tags[0].key"),
        ([{"key": "", "value": "v"}], "tags[0].key"),
        ([{"key": "k", "value": "v" * 257}], "tags[0].value"),
        ([{"key": f"k{i}", "value": "v"} for i in range(51)], "tags"),
    ],
)
async def test_tag_limits_hold_on_tag_resource_and_run_task(
    client: Client, plane: ControlPlane, tags: list[dict[str, str]], path: str
) -> None:
    cluster = (await plane.clusters.ensure_default())["clusterArn"]
    status, answer = await ecs(client, "TagResource", {"resourceArn": cluster, "tags": tags})
    assert (status, first_problem(answer)) == (400, path)
    await ecs(client, "RegisterTaskDefinition", taskdef(container()))
    status, answer = await ecs(client, "RunTask", {"taskDefinition": "web", "tags": tags})
    assert (status, first_problem(answer)) == (400, path)


async def test_untag_resource_keys_hold_to_the_tag_key_limit(client: Client, plane: ControlPlane) -> None:
    cluster = (await plane.clusters.ensure_default())["clusterArn"]
    status, answer = await ecs(client, "UntagResource", {"resourceArn": cluster, "tagKeys": ["k" * 129]})
    assert (status, first_problem(answer)) == (400, "tagKeys[0]")


def first_problem(answer: dict[str, Any]) -> str:
    """The first problem's path; the message is that problem's sentence alone, as ECS answers."""
    first = answer["minecsProblems"][0]
    assert answer["message"] == first["message"]
    return str(first["path"])


@pytest.mark.parametrize(
    ("operation", "member", "most", "extra"),
    [
        ("DescribeClusters", "clusters", 100, {}),
        ("DeleteTaskDefinitions", "taskDefinitions", 10, {}),
        ("UpdateContainerInstancesState", "containerInstances", 10, {"status": "DRAINING"}),
    ],
)
async def test_list_members_hold_to_ecs_counts(
    client: Client, operation: str, member: str, most: int, extra: dict[str, Any]
) -> None:
    status, answer = await ecs(client, operation, {member: [f"x{i}" for i in range(most + 1)], **extra})
    assert (status, answer["__type"]) == (400, "InvalidParameterException")
    assert answer["message"] == f"{member} can have at most {most} items."
