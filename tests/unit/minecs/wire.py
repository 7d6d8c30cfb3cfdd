"""Requests as a hostile or careless client sends them: SigV4 by botocore's own signer, raw bytes on a socket.

``signed`` signs an ECS JSON 1.1 request with botocore's ``SigV4Auth`` (the oracle), and can leave
chosen headers out of ``SignedHeaders`` the way a forged request would. ``exchange`` writes bytes
as they are (bad UTF-8, broken request lines, huge headers) and reads one HTTP answer back, or says
the connection was dropped: the aiohttp client refuses to send most of what these tests need.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from minecs.controlplane.auth import AdminCredential

ADMIN = AdminCredential("AKIAMINECSTEST000001", "a-secret-only-this-test-knows")
AUTH = {"Authorization": f"MinecsAdmin {ADMIN.access_key_id}:{ADMIN.secret_access_key}"}
TARGET = "AmazonEC2ContainerServiceV20141113."
JSON_1_1 = "application/x-amz-json-1.1"


class _WithoutHost(SigV4Auth):  # type: ignore[misc]
    """botocore's signer, but ``host`` left out of SignedHeaders (botocore itself always signs it)."""

    def headers_to_sign(self, request: Any) -> Any:
        chosen = super().headers_to_sign(request)
        del chosen["host"]
        return chosen


def signed(
    url: str,
    operation: str,
    body: bytes = b"{}",
    *,
    credential: AdminCredential = ADMIN,
    region: str = "us-east-1",
    service: str = "ecs",
    unsigned: tuple[str, ...] = (),
) -> dict[str, str]:
    """Headers of a SigV4-signed ECS request; the headers named in ``unsigned`` are added after signing."""
    headers = {"Content-Type": JSON_1_1, "X-Amz-Target": TARGET + operation}
    to_sign = {k: v for k, v in headers.items() if k.lower() not in unsigned}
    request = AWSRequest(method="POST", url=url, data=body, headers=to_sign)
    signer = _WithoutHost if "host" in unsigned else SigV4Auth
    signer(Credentials(credential.access_key_id, credential.secret_access_key), service, region).add_auth(
        request
    )
    return {**headers, **{k: v for k, v in request.headers.items() if k.lower() != "host"}}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def exchange(host: str, port: int, raw: bytes) -> Answer | None:
    """Send ``raw`` on a fresh connection; the answer, or None when the server closed without one."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        # Not drained: the answer may come (a 413) while the body is still being written.
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    try:
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
        length = headers.get("content-length")
        body = await (reader.readexactly(int(length)) if length is not None else reader.read())
        return Answer(int(status_line.split(" ")[1]), headers, body)
    finally:
        writer.close()
        await writer.wait_closed()


def request_bytes(
    method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b"", host: str = "x"
) -> bytes:
    """One HTTP/1.1 request as bytes (``path`` and header values as given, already encoded as wanted)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body
