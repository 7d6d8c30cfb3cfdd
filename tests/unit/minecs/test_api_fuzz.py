"""A seeded, bounded fuzz of the whole HTTP surface (issue 15): no 5xx, no dropped connection, right shapes.

Every route the app's router registers (so a new route is fuzzed without anyone adding it here)
and every ECS operation in botocore's model (the oracle for request shapes) is sent requests built
from the model's shapes, then mutated: wrong types, huge numbers, NaN/Infinity, deep nesting,
lone surrogates, NUL bytes, long strings, oversized and non-UTF-8 bodies, odd methods, long URLs
and headers, broken request lines. ECS requests go signed with botocore's own ``SigV4Auth``,
unsigned, and with broken signatures. Everything is written as raw bytes to a real server on
127.0.0.1 (``minecs.api.serving.Serving``, as the controller serves) over a real SQLite store.

Asserted for every answer: status below 500; an answer at all (a request unanswered for 30 s counts
as a hang: every answer here takes milliseconds); an error body in its front end's shape; no file
path, traceback or database name in it; and no error logged. The summary line is printed:

    .venv/bin/pytest -q -p no:cacheprovider tests/unit/minecs/test_api_fuzz.py

``MINECS_FUZZ_SEED`` and ``MINECS_FUZZ_REQUESTS`` change the seed and the count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import structlog.testing

from minecs.api.app import build_app
from minecs.api.ecs.common import OPERATIONS
from minecs.api.serving import Serving
from minecs.controlplane.instances import Registration
from minecs.controlplane.plane import ControlPlane
from minecs.validation import parse_task_definition
from tests.taskdefs import container, taskdef
from tests.unit.minecs.wire import ADMIN, AUTH, TARGET, Answer, exchange, request_bytes, signed

SEED = int(os.environ.get("MINECS_FUZZ_SEED", "15"))
REQUESTS = int(os.environ.get("MINECS_FUZZ_REQUESTS", "3200"))
HANG = 30.0
LOOPBACK = "127.0.0.1"
MODEL = botocore.session.get_session().get_service_model("ecs")
NAMES = ["default", "fuzz", "fuzz-svc", "web", "nope", "arn:aws:ecs:us-east-1:000000000000:cluster/fuzz"]
STRINGS = [
    "",
    " ",
    "é",
    "🙂",
    "\u2028",
    "a\x00b",
    "../../etc/passwd",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "%00",
]
RAW_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-0", "18446744073709551616", "-9223372036854775809"]
RAW_STRINGS = ['"\\ud800"', '"\\udfff\\ud800"', '"a\\u0000b"']
ODD_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "FOO", "GET", "POST"]
QUERY_KEYS = ["cluster", "container", "tail", "follow", "force", "since", "wait", "command", "service", "tty"]
QUERY_VALUES = [
    "",
    "1",
    "true",
    "nan",
    "inf",
    "-1",
    "9" * 5000,
    "%00",
    "%ff",
    "%ed%a0%80",
    "default",
    "x" * 5000,
]
CLUSTER_ARN = "arn:aws:ecs:us-east-1:000000000000:cluster/default"
NEAR_VALID: dict[str, Any] = {
    "RegisterTaskDefinition": taskdef(container(portMappings=[{"containerPort": 80}]), family="fuzz"),
    "RunTask": {
        "taskDefinition": "fuzz",
        "count": 2,
        "overrides": {"containerOverrides": [{"name": "app", "environment": [{"name": "A", "value": "b"}]}]},
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
        "placementStrategy": [{"type": "spread", "field": "instanceId"}],
        "tags": [{"key": "k", "value": "v"}],
    },
    "StartTask": {"taskDefinition": "fuzz", "containerInstances": ["x"], "cluster": "default"},
    "CreateService": {"serviceName": "fz", "taskDefinition": "fuzz", "desiredCount": 1, "cluster": "default"},
    "UpdateService": {"service": "fuzz-svc", "desiredCount": 2, "forceNewDeployment": True},
    "CreateCluster": {"clusterName": "fz", "settings": [{"name": "containerInsights", "value": "enabled"}]},
    "TagResource": {"resourceArn": CLUSTER_ARN, "tags": [{"key": "k", "value": "v"}]},
    "UntagResource": {"resourceArn": CLUSTER_ARN, "tagKeys": ["k"]},
    "RegisterContainerInstance": {
        "totalResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22"]},
        ],
        "attributes": [{"name": "a", "value": "b"}],
    },
    "ListContainerInstances": {"filter": "attribute:a == b", "status": "ACTIVE"},
    "UpdateContainerInstancesState": {"containerInstances": ["x"], "status": "DRAINING"},
}
LEAKS = ("Traceback", 'File "', ".py", "minecs.db", "site-packages")


@dataclass(frozen=True)
class Sent:
    kind: str
    front: str  # "ecs", "native" or "either" (the request line itself is broken)
    raw: bytes


class Raw:
    """JSON text to splice in where a value goes (what ``json.dumps`` refuses to write: NaN, ``\\ud800``)."""

    def __init__(self, text: str) -> None:
        self.text = text


def to_json(value: Any) -> bytes:
    spliced: list[str] = []

    def mark(item: Any) -> Any:
        if isinstance(item, Raw):
            spliced.append(item.text)
            return f"\x01{len(spliced) - 1}\x01"
        if isinstance(item, dict):
            return {k: mark(v) for k, v in item.items()}
        if isinstance(item, list):
            return [mark(v) for v in item]
        return item

    text = json.dumps(mark(value))
    for index, raw in enumerate(spliced):
        text = text.replace(json.dumps(f"\x01{index}\x01"), raw)
    return text.encode("utf-8", "surrogatepass")


class Fuzzer:
    """Seeded request builder: one ``next()`` is one request, as bytes."""

    def __init__(self, rnd: random.Random, routes: list[tuple[str, str]], port: int, agent: dict[str, str]):
        self.rnd, self.routes, self.port, self.agent = rnd, routes, port, agent
        self.host = f"{LOOPBACK}:{port}"
        self.operations = sorted(MODEL.operation_names)
        self.supported = sorted(OPERATIONS)
        self.kinds: list[tuple[Callable[[], Sent], int]] = [
            (self.ecs_signed, 34),
            (self.ecs_unsigned, 6),
            (self.ecs_badly_signed, 8),
            (self.native, 40),
            (self.broken_http, 8),
            (self.oversized, 1),
        ]

    def next(self) -> Sent:
        build = self.rnd.choices([k for k, _ in self.kinds], [w for _, w in self.kinds])[0]
        return build()

    # ------------------------------------------------------------------ values
    def value(self, shape: Any, depth: int = 0) -> Any:
        """A value for a botocore shape: mostly well-formed, sometimes hostile."""
        if self.rnd.random() < 0.04:
            return self.hostile(depth)
        kind = shape.type_name
        if kind in ("structure", "list", "map") and depth >= 4:
            kind = "string"
        builders: dict[str, Callable[[], Any]] = {
            "structure": lambda: self.structure(shape, depth),
            "list": lambda: [
                self.value(shape.member, depth + 1) for _ in range(self.rnd.choice([0, 1, 1, 2, 3]))
            ],
            "map": lambda: {
                self.text(): self.value(shape.value, depth + 1) for _ in range(self.rnd.randint(0, 2))
            },
            "integer": lambda: self.rnd.choice([0, 1, 2, 10, -1, 100, 2**31, 2**63 - 1]),
            "long": lambda: self.rnd.choice([0, 1, 2, 10, -1, 100, 2**31, 2**63 - 1]),
            "boolean": lambda: self.rnd.random() < 0.5,
            "double": lambda: self.rnd.choice([0, 1.5, 1e300, -3.0]),
            "timestamp": lambda: self.rnd.choice([0, 1700000000, -1, 1e300]),
        }
        return builders.get(kind, lambda: self.string(shape))()

    def structure(self, shape: Any, depth: int) -> dict[str, Any]:
        names = [n for n in shape.members if n in shape.required_members or self.rnd.random() < 0.4]
        return {n: self.value(shape.members[n], depth + 1) for n in names}

    def string(self, shape: Any) -> str:
        enum = getattr(shape, "enum", None)
        return self.rnd.choice(enum) if enum and self.rnd.random() < 0.8 else self.text()

    def text(self) -> str:
        roll = self.rnd.random()
        if roll < 0.5:
            return self.rnd.choice(NAMES)
        if roll < 0.9:
            return self.rnd.choice(STRINGS)
        return self.rnd.choice("ab\x00é") * self.rnd.choice([129, 300, 5000, 70000])

    def hostile(self, depth: int) -> Any:
        roll = self.rnd.random()
        if roll < 0.3:
            return Raw(self.rnd.choice(RAW_NUMBERS + RAW_STRINGS))
        if roll < 0.45:
            deep = self.rnd.choice([65, 1000, 5000])
            return Raw("[" * deep + "]" * deep)
        wrong: list[Any] = [[], {}, 0, True, None, "x", [["x"]], {"a": {"b": []}}, 1.5, -(2**63)]
        return self.rnd.choice(wrong)

    def body(self, value: Any) -> bytes:
        roll = self.rnd.random()
        if roll < 0.05:
            return self.rnd.choice(
                [b"", b"[]", b"1", b"null", b'"x"', b"{", b"}{", b"\xef\xbb\xbf{}", b"{} {}"]
            )
        raw = to_json(value)
        if roll < 0.1 and raw:
            at = self.rnd.randrange(len(raw))
            return raw[:at] + self.rnd.choice([b"\xff", b"\xed\xa0\x80", b"\xc3", b"\x00"]) + raw[at:]
        return raw

    # ------------------------------------------------------------------ ECS
    def ecs_body(self, operation: str) -> bytes:
        """A body from the model's input shape; for the common operations often a valid one, mutated."""
        if operation in NEAR_VALID and self.rnd.random() < 0.4:
            return self.body(self.mutate(json.loads(json.dumps(NEAR_VALID[operation]))))
        return self.body(self.value(MODEL.operation_model(operation).input_shape) or {})

    def ecs_signed(self) -> Sent:
        supported = self.rnd.random() < 0.8
        operation = self.rnd.choice(self.supported if supported else self.operations)
        body = self.ecs_body(operation)
        region = "nowhere" if self.rnd.random() < 0.05 else self.rnd.choice(["us-east-1", "eu-west-1"])
        unsigned = self.rnd.choice([("x-amz-target",), ("host",)]) if self.rnd.random() < 0.08 else ()
        headers = signed(f"http://{self.host}/", operation, body, region=region, unsigned=unsigned)
        return Sent(
            "ecs signed", "ecs", request_bytes("POST", "/", headers=headers, body=body, host=self.host)
        )

    def ecs_unsigned(self) -> Sent:
        operation = self.rnd.choice([*self.operations, "NoSuch", "", "../x"])
        headers = {"X-Amz-Target": TARGET + operation, "Content-Type": "application/x-amz-json-1.1"}
        if self.rnd.random() < 0.3:
            headers["X-Amz-Target"] = self.rnd.choice(["Foreign_2020.X", "", "x" * 2000, "\udcff"])
        method = self.rnd.choice(["POST", "POST", "POST", "GET", "PUT"])
        body = self.ecs_body(operation) if operation in self.operations else b"{}"
        return Sent("ecs unsigned", "ecs", request_bytes(method, "/", headers=headers, body=body))

    def ecs_badly_signed(self) -> Sent:
        operation = self.rnd.choice(self.operations)
        body = self.ecs_body(operation)
        headers = signed(f"http://{self.host}/", operation, body)
        spoil = self.rnd.randrange(6)
        if spoil == 0:
            headers["Authorization"] = headers["Authorization"][:-1] + "0"
        elif spoil == 1:
            headers["X-Amz-Target"] = TARGET + self.rnd.choice(self.operations)
        elif spoil == 2:
            headers["X-Amz-Date"] = self.rnd.choice(["20000101T000000Z", "nonsense", "\udcff"])
        elif spoil == 3:
            headers["Authorization"] = self.rnd.choice(
                ["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=AKIAX/1/2/3/aws4_request", "Basic x", "é"]
            )
        elif spoil == 4:
            body = body + b" "
        else:
            headers["Authorization"] = headers["Authorization"].replace(
                ADMIN.access_key_id, "AKIAUNKNOWN0000000"
            )
        return Sent(
            "ecs badly signed", "ecs", request_bytes("POST", "/", headers=headers, body=body, host=self.host)
        )

    # ------------------------------------------------------------------ native and agent
    def native(self) -> Sent:
        method, pattern = self.rnd.choice(self.routes)
        if self.rnd.random() < 0.1:
            method = self.rnd.choice(ODD_METHODS)
        path = self.fill(pattern) + self.query()
        headers = {"Content-Type": "application/json", **self.credential(pattern)}
        body = self.body(self.native_value(pattern)) if method in ("POST", "PATCH", "PUT") else b""
        front = "ecs" if pattern == "/" and method == "POST" else "native"
        return Sent("native", front, request_bytes(method, path, headers=headers, body=body))

    def fill(self, pattern: str) -> str:
        out = pattern
        while "{" in out:
            start, end = out.index("{"), out.index("}")
            out = out[:start] + self.parameter(out[start + 1 : end]) + out[end + 1 :]
        return out

    def parameter(self, name: str) -> str:
        if name == "id" and self.rnd.random() < 0.5:
            return self.agent["id"]
        return self.rnd.choice(
            [
                "x",
                "fuzz",
                "fuzz:1",
                "fuzz:" + "9" * 30,
                "%00",
                "%ff",
                "\udcff",
                "a" * 1500,
                "..%2f..",
                "é",
                "%20",
            ]
        )

    def query(self) -> str:
        if self.rnd.random() < 0.5:
            return ""
        pairs = [
            f"{self.rnd.choice(QUERY_KEYS)}={self.rnd.choice(QUERY_VALUES)}"
            for _ in range(self.rnd.randint(1, 3))
        ]
        return "?" + "&".join(pairs)

    def credential(self, pattern: str) -> dict[str, str]:
        roll = self.rnd.random()
        if pattern.startswith("/agent/v1/instances/") and roll < 0.6:
            return {"Authorization": self.agent["Authorization"]}
        if roll < 0.75:
            return AUTH
        return {
            "Authorization": self.rnd.choice(["", "MinecsAdmin x:y", "Bearer mcr-x", "MinecsAgent é:\udcff"])
        }

    def native_value(self, pattern: str) -> Any:
        known: dict[str, Any] = {
            "/v1/taskdefinitions": taskdef(container(), family="fuzz"),
            "/v1/tasks": {"taskDefinition": "fuzz", "count": 1, "overrides": {"containerOverrides": []}},
            "/v1/tokens": {"ttlSeconds": 60, "uses": 1},
            "/v1/apply": {"documents": [taskdef(container(), family="fuzz")]},
            "/v1/services/{name}": {"desiredCount": 0, "cluster": "default"},
            "/agent/v1/register": {"cluster": "default", "resources": {"cpu": 1024, "memory": 512}},
            "/agent/v1/instances/{id}/reports": {"reports": [{"taskArn": "x", "seq": 1}]},
        }
        base = known.get(pattern, {"cluster": "default", "reason": "fuzz"})
        return self.mutate(json.loads(json.dumps(base)))

    def mutate(self, value: Any) -> Any:
        if self.rnd.random() < 0.3 or not isinstance(value, dict | list) or not value:
            return value
        if isinstance(value, list):
            at = self.rnd.randrange(len(value))
            value[at] = self.hostile(1) if self.rnd.random() < 0.5 else self.mutate(value[at])
            return value
        key = self.rnd.choice(list(value))
        value[key] = self.hostile(1) if self.rnd.random() < 0.5 else self.mutate(value[key])
        return value

    # ------------------------------------------------------------------ HTTP itself
    def broken_http(self) -> Sent:
        choices = [
            b"GET\x01 / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
            request_bytes("GET", "/v1/clusters/" + "a" * 9000, headers=AUTH),
            request_bytes("GET", "/v1/clusters", headers={**AUTH, "X-Pad": "p" * 9000}),
            request_bytes("GET", "/v1/clusters", headers={**AUTH, **{f"X-{i}": "v" for i in range(130)}}),
            request_bytes("POST", "/", headers={"Bad Header": "x"}),
            request_bytes("GET", "/v1/clusters", headers={**AUTH, "X-Raw": "\udcff\udcfe"}),
            b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
            b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            b"GET /v1/clusters HTTP/9.9\r\nHost: x\r\n\r\n",
            b"GET /v1/t\xffasks HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: {AUTH['Authorization']}".encode()
            + b"\r\n\r\n",
        ]
        return Sent("broken http", "either", self.rnd.choice(choices))

    def oversized(self) -> Sent:
        body = b'{"family": "' + b"x" * (1024 * 1024) + b'"}'
        if self.rnd.random() < 0.5:
            headers = signed(f"http://{self.host}/", "RegisterTaskDefinition", body)
            return Sent(
                "oversized", "ecs", request_bytes("POST", "/", headers=headers, body=body, host=self.host)
            )
        return Sent(
            "oversized", "native", request_bytes("POST", "/v1/taskdefinitions", headers=AUTH, body=body)
        )


async def send(port: int, sent: Sent) -> tuple[Answer | None, int | str]:
    """The answer and its status, or None and ``dropped`` / ``hang`` (nothing within HANG seconds)."""
    try:
        answer = await asyncio.wait_for(exchange(LOOPBACK, port, sent.raw), HANG)
    except TimeoutError:
        return None, "hang"
    return answer, answer.status if answer else "dropped"


def problems_of(sent: Sent, answer: Answer | None, tmp_path: Path) -> list[str]:
    """What is wrong with ``answer`` to ``sent``; [] when it is a proper answer."""
    if answer is None:
        return ["no answer (the connection was dropped, or nothing came within 30 s)"]
    found = [f"status {answer.status}"] if answer.status >= 500 else []
    text = answer.body.decode("utf-8", "replace")
    found += [f"leaks {leak!r}" for leak in (*LEAKS, str(tmp_path)) if leak in text]
    if answer.status >= 400:
        try:
            shape = set(answer.json())
        except ValueError:
            return [*found, "error body is not JSON"]
        wanted = {"ecs": {"__type", "message"}, "native": {"code", "message"}}
        fronts = ["ecs", "native"] if sent.front == "either" else [sent.front]
        if not any(wanted[f] <= shape for f in fronts):
            found.append(f"error body {sorted(shape)} is not the {sent.front} shape")
    return found


def shown(raw: bytes) -> str:
    """The request line, the ECS target if any, and the start of the body: enough to replay a failure."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    target = [line for line in lines if line.lower().startswith(b"x-amz-target")]
    return f"{lines[0][:200]!r} {target!r} body {body[:400]!r}"


@pytest.fixture
async def served(plane: ControlPlane) -> AsyncIterator[tuple[int, list[tuple[str, str]], dict[str, str]]]:
    """A real server on 127.0.0.1 over the SQLite store, with a task definition, a service and an agent."""
    await plane.taskdefs.register(parse_task_definition(taskdef(container(), family="fuzz")))
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    registered = await plane.instances.register(Registration("default", 4096, 4096), token=token)
    instance = str(registered.instance["instanceId"])
    agent = {"id": instance, "Authorization": f"MinecsAgent {instance}:{registered.credential}"}
    app = build_app(plane, ADMIN, poll_wait=0.05)
    routes = [
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    ]
    serving = Serving(app)
    try:
        yield await serving.start(LOOPBACK, 0), routes, agent
    finally:
        await serving.close()


async def test_no_request_gets_a_5xx_a_dropped_connection_or_a_wrong_shape(
    served: tuple[int, list[tuple[str, str]], dict[str, str]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, routes, agent = served
    assert len(routes) >= 25
    fuzzer = Fuzzer(random.Random(SEED), routes, port, agent)
    statuses: Counter[int | str] = Counter()
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    with structlog.testing.capture_logs() as logged, caplog.at_level(logging.WARNING):
        for number in range(REQUESTS):
            sent = fuzzer.next()
            kinds[sent.kind] += 1
            answer, outcome = await send(port, sent)
            statuses[outcome] += 1
            failures += [
                f"#{number} {sent.kind}: {p}: {shown(sent.raw)}" for p in problems_of(sent, answer, tmp_path)
            ]
    seconds = time.monotonic() - started
    errors = [e for e in logged if e["log_level"] in ("error", "critical")]
    records = [r for r in caplog.records if r.name.startswith("aiohttp") or r.exc_info]
    with capsys.disabled():
        print(
            f"\nfuzz (seed {SEED}): {REQUESTS} requests in {seconds:.1f} s; "
            f"statuses {dict(sorted(statuses.items(), key=str))}; kinds {dict(sorted(kinds.items()))}"
        )
    assert failures == [], "\n".join(failures[:20])
    assert errors == []
    assert [r.getMessage() for r in records] == []
    assert set(statuses) <= set(range(100, 500))
