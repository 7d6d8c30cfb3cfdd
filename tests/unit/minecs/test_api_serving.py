"""What aiohttp answers on its own (requests it cannot parse) comes out as JSON, and logs one line, no traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import pytest

from minecs import logs
from minecs.api.app import build_app
from minecs.api.serving import Serving
from minecs.controlplane.plane import ControlPlane
from tests.unit.minecs.wire import ADMIN, AUTH, exchange, request_bytes

LOOPBACK = "127.0.0.1"


@pytest.fixture
async def port(plane: ControlPlane) -> AsyncIterator[int]:
    serving = Serving(build_app(plane, ADMIN, poll_wait=0.2))
    try:
        yield await serving.start(LOOPBACK, 0)
    finally:
        await serving.close()


@pytest.fixture
def json_log() -> io.StringIO:
    out = io.StringIO()
    logs.configure("info", "json", stream=out)
    return out


def both_shapes(answer: object) -> bool:
    return isinstance(answer, dict) and {"__type", "code", "message"} <= set(answer)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET\x01 / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
        request_bytes("GET", "/v1/clusters/" + "a" * 9000, headers=AUTH),
        request_bytes("GET", "/v1/clusters", headers={**AUTH, "X-Pad": "p" * 9000}),
        request_bytes("POST", "/", headers={"Bad Header": "x"}),
        b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
    ],
)
async def test_a_request_aiohttp_cannot_parse_is_a_json_400_in_both_shapes(port: int, raw: bytes) -> None:
    answer = await exchange(LOOPBACK, port, raw)
    assert answer is not None
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("application/json")
    assert both_shapes(answer.json())


async def test_a_request_over_8_kb_logs_one_json_line_and_no_traceback(
    port: int, json_log: io.StringIO
) -> None:
    await exchange(LOOPBACK, port, request_bytes("GET", "/v1/clusters/" + "a" * 9000, headers=AUTH))
    await exchange(LOOPBACK, port, b"GET\x01 / HTTP/1.1\r\n\r\n")
    lines = json_log.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["bad http request", "bad http request"]
    assert "Traceback" not in json_log.getvalue()


def test_stdlib_loggers_such_as_aiohttp_write_single_line_json(json_log: io.StringIO) -> None:
    try:
        raise ValueError("inside")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    (line,) = json_log.getvalue().splitlines()
    event = json.loads(line)
    assert (event["event"], event["level"], event["logger_name"]) == (
        "Error handling request",
        "error",
        "aiohttp.server",
    )
    assert "ValueError: inside" in event["exception"]


def test_aiohttp_access_lines_are_quiet_at_info(json_log: io.StringIO) -> None:
    logging.getLogger("aiohttp.access").info("127.0.0.1 GET /healthz 200")
    assert json_log.getvalue() == ""


async def test_a_served_app_still_answers_and_routes(port: int) -> None:
    answer = await exchange(LOOPBACK, port, request_bytes("GET", "/healthz"))
    assert answer is not None
    assert (answer.status, answer.json()) == (200, {"ok": True})
    missing = await exchange(LOOPBACK, port, request_bytes("GET", "/nope"))
    assert missing is not None
    assert (missing.status, missing.json()["code"]) == (404, "UnknownOperationException")
