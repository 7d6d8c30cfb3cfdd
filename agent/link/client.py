"""The agent's side of the controller protocol (docs/protocol.md), over aiohttp.

``ControllerClient`` is the HTTP seam: register, long-poll assignments, post reports, upload logs,
and open the agent's end of an exec session (a WebSocket). Connection failures and 5xx answers are
``ControllerUnavailableError`` (retry later, keep running tasks: edge autonomy), whose message says
in a few words what happened (``controller http://h:7450 unreachable: connection refused``:
``failure`` words aiohttp's errors, whose reprs are ConnectionKey dumps); a 4xx is
``ControllerRefusedError`` with the controller's code (a bad token will not get better by retrying).
The instance's identity is kept in ``<data-dir>/instance.json`` (0600), so a restarted agent
re-registers as the same container instance.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from minecs.errors import ControllerRefusedError, ControllerUnavailableError
from minecs.logs import get_logger

log = get_logger(__name__)


@dataclass
class Backoff:
    """Retry pacing of calls to the controller: ``start`` seconds, doubling to ``most`` while it is
    away (``agent.backoff_start`` and ``agent.backoff_max``: 1 s and 30 s by default)."""

    start: float = 1.0
    most: float = 30.0
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay = self.start

    def failed(self) -> float:
        """The wait before the next try; the one after is twice as long (at most ``most``)."""
        wait, self.delay = self.delay, min(self.delay * 2, self.most)
        return wait

    def answered(self) -> None:
        self.delay = self.start


@dataclass(frozen=True)
class Identity:
    instance_id: str
    credential: str
    container_instance_arn: str
    cluster: str

    @property
    def header(self) -> str:
        return f"MinecsAgent {self.instance_id}:{self.credential}"


def load_identity(path: Path) -> Identity | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return Identity(data["instanceId"], data["credential"], data["containerInstanceArn"], data["cluster"])


def save_identity(path: Path, identity: Identity) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {
            "instanceId": identity.instance_id,
            "credential": identity.credential,
            "containerInstanceArn": identity.container_instance_arn,
            "cluster": identity.cluster,
        }
    )
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


_PLAIN_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (TimeoutError, "no answer within the timeout"),
    (aiohttp.ServerDisconnectedError, "the connection was closed before an answer"),
    (ValueError, "the answer is not JSON"),
)


def failure(exc: BaseException) -> str:
    """What went wrong on the way to the controller, in a few words: ``connection refused``,
    ``no answer within the timeout``; never aiohttp's repr (a ConnectionKey dump)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, socket.gaierror) or not cause.errno:
            return f"cannot connect: {cause.strerror or cause}"
        return os.strerror(cause.errno).lower()
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"answered {exc.status} {exc.message}".strip()
    plain = (text for kind, text in _PLAIN_FAILURES if isinstance(exc, kind))
    return next(plain, str(exc) or type(exc).__name__)


class ControllerClient:
    def __init__(self, endpoint: str, session: aiohttp.ClientSession) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.session = session

    async def _call(self, method: str, path: str, *, auth: str, body: Any = None, within: float = 30) -> Any:
        try:
            async with self.session.request(
                method,
                self.endpoint + path,
                json=body,
                headers={"Authorization": auth},
                timeout=aiohttp.ClientTimeout(total=within),
            ) as response:
                payload = await response.json(content_type=None)
                if response.status >= 500:
                    raise ControllerUnavailableError(f"controller answered {response.status}: {payload}")
                if response.status >= 400:
                    raise ControllerRefusedError(
                        response.status, str(payload.get("code")), str(payload.get("message"))
                    )
                return payload
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ControllerUnavailableError(
                f"controller {self.endpoint} unreachable: {failure(exc)}"
            ) from exc

    async def register(
        self, body: dict[str, Any], *, token: str | None, identity: Identity | None
    ) -> dict[str, Any]:
        auth = identity.header if identity is not None else f"Bearer {token or ''}"
        result: dict[str, Any] = await self._call("POST", "/agent/v1/register", auth=auth, body=body)
        return result

    async def assignments(self, identity: Identity, since: int, wait: float) -> dict[str, Any]:
        path = f"/agent/v1/instances/{identity.instance_id}/assignments?since={since}&wait={wait}"
        result: dict[str, Any] = await self._call("GET", path, auth=identity.header, within=wait + 30)
        return result

    async def upload_logs(
        self,
        identity: Identity,
        request_id: str,
        *,
        chunks: AsyncIterator[bytes] | None = None,
        error: str | None = None,
    ) -> None:
        """Stream ``chunks`` as the answer to a log request (or say why there is none) until either
        side ends: the controller answers once its caller has gone, and the reading stops there."""
        path = f"/agent/v1/instances/{identity.instance_id}/logs/{request_id}"
        headers = {"Authorization": identity.header, "Content-Type": "text/plain"}
        if error is not None:
            headers["Minecs-Log-Error"] = error.replace("\n", " ")
        try:
            async with self.session.post(
                self.endpoint + path,
                data=chunks if chunks is not None else b"",
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
                # aiohttp holds the request's headers back until the body's first chunk, so a silent
                # container's follow would reach the controller only with its first line; asking for
                # 100-continue sends them at once, and the caller's stream attaches at once.
                expect100=True,
            ) as response:
                if response.status >= 400:
                    log.warning("log upload refused", status=response.status, body=await response.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ControllerUnavailableError(f"log upload to {self.endpoint} failed: {failure(exc)}") from exc
        finally:
            if chunks is not None and hasattr(chunks, "aclose"):
                await chunks.aclose()  # the container's log reader lets go at once

    @asynccontextmanager
    async def exec_channel(
        self, identity: Identity, request_id: str
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """The agent's end of exec session ``request_id`` (docs/protocol.md, "Exec"), closed on leaving."""
        path = f"/agent/v1/instances/{identity.instance_id}/exec/{request_id}"
        try:
            socket = await self.session.ws_connect(
                self.endpoint + path,
                headers={"Authorization": identity.header},
                heartbeat=30,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=10),
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ControllerUnavailableError(
                f"exec channel to {self.endpoint} failed: {failure(exc)}"
            ) from exc
        try:
            yield socket
        finally:
            await socket.close()

    async def report(self, identity: Identity, snapshots: list[dict[str, Any]]) -> dict[str, int]:
        path = f"/agent/v1/instances/{identity.instance_id}/reports"
        result = await self._call("POST", path, auth=identity.header, body={"reports": snapshots})
        return dict(result["acknowledged"])
