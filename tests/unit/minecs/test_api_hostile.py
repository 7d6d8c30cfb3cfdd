"""Hostile input (issue 15, section 3): every input the issue lists answers a 4xx in its front end's shape.

One test per listed item; each failed (500, a traceback, or a dropped connection) before the
decoding boundary (``minecs.api.bodies``) and the request guard existed.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog.testing
from aiohttp.test_utils import TestClient, TestServer

from minecs.api.app import build_app
from minecs.api.ecs.common import OPERATIONS
from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.apiclient import agent
from tests.unit.minecs.wire import ADMIN, AUTH, JSON_1_1, TARGET, exchange, request_bytes, signed

Client = TestClient[Any, Any]
DEEP = b'{"cluster": ' + b"[" * 5000 + b"]" * 5000 + b"}"


@pytest.fixture
async def client(plane: ControlPlane) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(plane, ADMIN, poll_wait=0.2))) as test_client:
        yield test_client


async def ecs(client: Client, operation: str, body: bytes | str) -> tuple[int, dict[str, Any]]:
    raw = body.encode() if isinstance(body, str) else body
    headers = signed(str(client.make_url("/")), operation, raw)
    response = await client.post("/", data=raw, headers=headers)
    return response.status, await response.json(content_type=None)


async def native(client: Client, method: str, path: str, body: bytes | str) -> tuple[int, dict[str, Any]]:
    raw = body.encode() if isinstance(body, str) else body
    response = await client.request(method, path, data=raw, headers=AUTH)
    return response.status, await response.json(content_type=None)


def native_posts(client: Client) -> list[tuple[str, str]]:
    """Every POST/PATCH route of the native API, from the router (a new one is covered by itself)."""
    found = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("POST", "PATCH") and path.startswith("/v1/"):
            found.append((route.method, path.replace("{id}", "x").replace("{name}", "x")))
    return found


async def test_json_nested_5000_deep_is_a_serialization_exception_on_every_ecs_operation(
    client: Client,
) -> None:
    for operation in OPERATIONS:
        status, body = await ecs(client, operation, DEEP)
        assert (status, body["__type"]) == (400, "SerializationException"), operation


async def test_json_nested_5000_deep_is_a_client_exception_on_every_native_post_and_patch(
    client: Client,
) -> None:
    routes = native_posts(client)
    assert len(routes) >= 6
    for method, path in routes:
        status, body = await native(client, method, path, DEEP)
        assert (status, body["code"]) == (400, "ClientException"), path


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("DeleteService", '{"cluster": "\\ud800", "service": "web"}'),
        ("UpdateService", '{"cluster": "\\ud800", "service": "web"}'),
        ("DeleteCluster", '{"cluster": "\\ud800"}'),
        ("StartTask", '{"cluster": "\\ud800", "taskDefinition": "web", "containerInstances": ["i"]}'),
    ],
)
async def test_a_lone_surrogate_in_an_ecs_member_is_a_serialization_exception(
    client: Client, operation: str, body: str
) -> None:
    status, answer = await ecs(client, operation, body)
    assert (status, answer["__type"]) == (400, "SerializationException")
    assert "UTF-8" in answer["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/tasks", '{"taskDefinition": "web", "cluster": "\\ud800"}'),
        ("/v1/tasks/x/stop", '{"cluster": "\\ud800"}'),
        ("/v1/tasks/x/stop", '{"\\udfff": 1}'),
    ],
)
async def test_a_lone_surrogate_in_a_native_body_is_a_client_exception(
    client: Client, path: str, body: str
) -> None:
    assert (await native(client, "POST", path, body))[1]["code"] == "ClientException"


@pytest.mark.parametrize(
    ("resources", "path"),
    [
        ([{"name": "CPU", "type": "INTEGER", "integerValue": "a"}], "totalResources[0].integerValue"),
        ([{"name": "CPU", "type": "INTEGER", "integerValue": {}}], "totalResources[0].integerValue"),
        ([{"name": "MEMORY", "type": "INTEGER", "integerValue": []}], "totalResources[0].integerValue"),
        (
            [{"name": "PORTS", "type": "STRINGSET", "stringSetValue": "str"}],
            "totalResources[0].stringSetValue",
        ),
        (
            [{"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["x"]}],
            "totalResources[0].stringSetValue",
        ),
        ([{"name": ["PORTS"], "type": "STRINGSET", "stringSetValue": []}], "totalResources[0].name"),
        (["CPU"], "totalResources[0]"),
    ],
)
async def test_register_container_instance_with_a_malformed_resource_names_the_member(
    client: Client, resources: list[Any], path: str
) -> None:
    status, answer = await ecs(client, "RegisterContainerInstance", json.dumps({"totalResources": resources}))
    assert (status, answer["__type"]) == (400, "ClientException")
    assert answer["message"].startswith(path)


async def test_register_container_instance_with_nan_is_a_serialization_exception(client: Client) -> None:
    body = '{"totalResources": [{"name": "CPU", "type": "INTEGER", "integerValue": NaN}]}'
    assert (await ecs(client, "RegisterContainerInstance", body))[1]["__type"] == "SerializationException"


@pytest.mark.parametrize(
    ("members", "path"),
    [
        ({"overrides": {"containerOverrides": [{"name": ["app"]}]}}, "overrides.containerOverrides[0].name"),
        ({"overrides": {"containerOverrides": [{"name": {"a": 1}}]}}, "overrides.containerOverrides[0].name"),
        (
            {"placementConstraints": [{"type": "memberOf", "expression": 0}]},
            "placementConstraints[0].expression",
        ),
        (
            {"placementConstraints": [{"type": "memberOf", "expression": []}]},
            "placementConstraints[0].expression",
        ),
        (
            {"placementConstraints": [{"type": "memberOf", "expression": {}}]},
            "placementConstraints[0].expression",
        ),
    ],
)
async def test_run_task_with_a_wrongly_typed_override_or_constraint_names_the_member(
    client: Client, members: dict[str, Any], path: str
) -> None:
    await client.post("/v1/taskdefinitions", json=taskdef(container()), headers=AUTH)
    status, answer = await ecs(client, "RunTask", json.dumps({"taskDefinition": "web", **members}))
    assert status == 400
    assert answer["__type"] in ("ClientException", "InvalidParameterException")
    assert path in answer["message"]


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/tasks/x/stop"), ("PATCH", "/v1/services/x")])
async def test_infinity_as_a_native_member_is_a_client_exception(
    client: Client, method: str, path: str
) -> None:
    status, answer = await native(client, method, path, '{"cluster": Infinity}')
    assert (status, answer["code"]) == (400, "ClientException")


@pytest.mark.parametrize(
    "ttl", ["18446744073709551616", "9223372036854775807", "Infinity", "NaN", "1e999", "-Infinity"]
)
async def test_token_ttl_out_of_range_is_a_client_exception(client: Client, ttl: str) -> None:
    status, answer = await native(client, "POST", "/v1/tokens", f'{{"ttlSeconds": {ttl}}}')
    assert (status, answer["code"]) == (400, "ClientException")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("digits", [5000, 30])
async def test_a_task_definition_revision_of_many_digits_is_a_4xx(
    client: Client, method: str, digits: int
) -> None:
    status, answer = await native(client, method, "/v1/taskdefinitions/fz:" + "9" * digits, b"")
    assert 400 <= status < 500
    assert answer["code"]


async def test_an_unsigned_ecs_body_over_1_mib_is_413_in_the_ecs_shape(client: Client) -> None:
    response = await client.post(
        "/", data=io.BytesIO(b" " * (1024 * 1024 + 1)), headers={"X-Amz-Target": TARGET + "ListClusters"}
    )
    answer = await response.json(content_type=None)
    assert response.status == 413
    assert response.headers["Content-Type"].startswith(JSON_1_1)
    assert set(answer) == {"__type", "message"}


async def test_a_native_body_over_1_mib_is_413_in_the_native_shape(client: Client) -> None:
    response = await client.post(
        "/v1/taskdefinitions", data=io.BytesIO(b" " * (1024 * 1024 + 1)), headers=AUTH
    )
    assert response.status == 413
    assert (await response.json())["code"] == "ClientException"


async def test_a_known_key_with_a_non_utf8_byte_in_a_signed_header_is_refused_in_the_ecs_shape(
    client: Client,
) -> None:
    headers = signed("http://x/", "ListClusters")
    headers["X-Amz-Target"] = TARGET + "ListClusters\udcff"  # the raw byte 0xff on the wire
    assert client.server.port is not None
    answer = await exchange(
        "127.0.0.1", client.server.port, request_bytes("POST", "/", headers=headers, body=b"{}")
    )
    assert answer is not None
    assert 400 <= answer.status < 500
    assert "__type" in answer.json()


async def test_exec_on_a_task_id_with_a_nul_byte_answers_with_a_clean_error_header(client: Client) -> None:
    response = await client.get("/v1/tasks/%00/exec", headers=AUTH)
    assert response.status == 400
    assert (await response.json())["code"] == "ClientException"
    assert all(" " <= ch <= "~" for ch in response.headers["Minecs-Error"])


async def test_minecs_error_carries_only_printable_ascii(client: Client) -> None:
    response = await client.get("/v1/tasks/t\u00e9\u2028x/exec", headers=AUTH)
    assert 400 <= response.status < 500
    assert all(" " <= ch <= "~" for ch in response.headers["Minecs-Error"])


async def test_aiohttp_own_404_and_405_come_in_the_native_shape(client: Client) -> None:
    missing = await client.get("/v1/no-such-thing", headers=AUTH)
    assert (missing.status, set(await missing.json())) == (404, {"code", "message"})
    wrong_method = await client.get("/v1/tokens", headers=AUTH)
    assert (wrong_method.status, set(await wrong_method.json())) == (405, {"code", "message"})


async def test_aiohttp_own_405_on_the_ecs_route_comes_in_the_ecs_shape(client: Client) -> None:
    response = await client.get("/", headers={"X-Amz-Target": TARGET + "ListClusters"})
    assert response.status == 405
    assert set(await response.json(content_type=None)) == {"__type", "message"}


async def test_a_fault_of_ours_is_500_server_exception_with_no_path_logged_once_with_its_traceback(
    client: Client, plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("/srv/minecs/secret/file.py exploded")

    monkeypatch.setattr(plane.clusters, "list_arns", broken)
    with structlog.testing.capture_logs() as logged:
        status, answer = await ecs(client, "ListClusters", "{}")
        native_status, native_answer = await native(client, "GET", "/v1/clusters", b"")
    assert (status, answer["__type"], native_status, native_answer["code"]) == (
        500,
        "ServerException",
        500,
        "ServerException",
    )
    assert "/" not in answer["message"] + native_answer["message"]
    assert "exploded" not in answer["message"] + native_answer["message"]
    faults = [e for e in logged if e["log_level"] == "error"]
    assert [e["event"] for e in faults] == ["request failed", "request failed"]
    assert all(isinstance(e["exc_info"], RuntimeError) for e in faults)


# ---------------------------------------------------------------------------- found by the fuzz test


async def test_agent_reports_that_are_not_a_list_of_objects_are_a_client_exception(
    client: Client, plane: ControlPlane
) -> None:
    me = await agent(client, plane)
    for reports in (-(2**63), "x", [1], {"a": 1}):
        response = await client.post(
            f"/agent/v1/instances/{me['id']}/reports",
            json={"reports": reports},
            headers={"Authorization": me["Authorization"]},
        )
        assert (response.status, (await response.json())["code"]) == (400, "ClientException"), reports


@pytest.mark.parametrize("operation", ["UpdateClusterSettings", "UpdateCluster"])
async def test_a_cluster_setting_without_a_name_is_refused_and_is_not_stored(
    client: Client, operation: str
) -> None:
    status, answer = await ecs(client, operation, '{"cluster": "default", "settings": [{}]}')
    assert (status, answer["minecsProblems"][0]["path"]) == (400, "settings[0].name")
    assert answer["message"] == answer["minecsProblems"][0]["message"]
    valid = '{"cluster": "default", "settings": [{"name": "containerInsights", "value": "enabled"}]}'
    assert (await ecs(client, operation, valid))[0] == 200
