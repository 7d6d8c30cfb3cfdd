"""A ``docker exec`` session's byte stream, spoken to the engine directly over asyncio.

docker-py can start an exec with ``socket=True``, but it hands back a blocking socket from inside
its HTTP response, where the bytes already buffered after the response headers can be lost, and a
blocking read would park a thread per session. So ``agent.runtime.docker`` creates and inspects the exec
through the SDK (as for everything else) and this module does the one hijacked call itself:
``POST /exec/{id}/start`` with ``Upgrade: tcp`` on its own connection, then the raw stream, read and
written with asyncio streams (cancellable, no thread). It imports no docker SDK.

The stream (Docker's "attach" format): with a TTY, the terminal's bytes as they come; without one,
frames of an 8-byte header (stream type 1 stdout / 2 stderr, three zero bytes, big-endian length)
and the payload. Closing our write side (half-close) closes the command's stdin.

Only the local socket (``unix://``) and plain ``tcp://`` endpoints are supported; a TLS endpoint
is refused with a clear error rather than half-supported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from minecs.errors import ContainerConflictError, ContainerNotFoundError, DriverError, EngineUnavailableError

STDOUT, STDERR = 1, 2
_HEADER = 8
_EXIT_POLLS = 100
"""How many times (every 50 ms) ``wait`` asks the engine for the exit code after the stream ended."""


async def start(
    base_url: str, api_version: str, exec_id: str, *, tty: bool
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Start a created exec; the connection's two halves, past the response headers."""
    reader, writer = await _connect(base_url)
    body = json.dumps({"Detach": False, "Tty": tty}).encode()
    writer.write(
        (
            f"POST /v{api_version}/exec/{exec_id}/start HTTP/1.1\r\n"
            "Host: docker\r\nContent-Type: application/json\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
    )
    await writer.drain()
    status, headers = await _response_head(reader)
    if status in (101, 200):
        return reader, writer
    detail = await _error_body(reader, headers)
    writer.close()
    if status == 404:
        raise ContainerNotFoundError(f"exec {exec_id}: {detail}")
    if status == 409:
        raise ContainerConflictError(f"exec {exec_id}: {detail}")
    raise DriverError(f"exec {exec_id}: the engine answered {status}: {detail}")


async def _connect(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(base_url)
    try:
        if url.scheme in ("unix", "http+unix"):
            return await asyncio.open_unix_connection(url.path)
        if url.scheme in ("tcp", "http") and url.hostname:
            return await asyncio.open_connection(url.hostname, url.port or 2375)
    except OSError as exc:
        raise EngineUnavailableError(f"exec: no Docker Engine answers at {base_url} ({exc})") from exc
    raise DriverError(f"exec: the Docker endpoint {base_url} is not supported (use unix:// or tcp://).")


async def _response_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        status_line = (await reader.readline()).decode("latin-1")
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers
    except (IndexError, ValueError, OSError) as exc:
        raise DriverError(f"exec: the engine's answer is not HTTP ({exc!r})") from exc


async def _error_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> str:
    with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        with contextlib.suppress(ValueError):
            return str(json.loads(raw).get("message", raw.decode(errors="replace")))
        return raw.decode(errors="replace").strip()
    return "no detail"


class DockerExecSession:
    """``agent.runtime.base.ExecSession`` over the hijacked connection; inspect/resize go through the SDK."""

    def __init__(
        self,
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        *,
        container_id: str,
        tty: bool,
        inspect: Callable[[], Awaitable[Mapping[str, Any]]],
        resize: Callable[[int, int], Awaitable[None]],
    ) -> None:
        self._reader, self._writer = streams
        self._tty, self._container_id = tty, container_id
        self._inspect, self._resize = inspect, resize

    async def read(self) -> tuple[int, bytes] | None:
        if self._tty:
            data = await self._reader.read(65536)
            return (STDOUT, data) if data else None
        try:
            header = await self._reader.readexactly(_HEADER)
            payload = await self._reader.readexactly(int.from_bytes(header[4:8], "big"))
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return (STDERR if header[0] == STDERR else STDOUT), payload

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close_input(self) -> None:
        if self._writer.can_write_eof() and not self._writer.is_closing():
            self._writer.write_eof()

    async def resize(self, rows: int, cols: int) -> None:
        if self._tty:
            await self._resize(rows, cols)

    async def wait(self) -> int:
        """The command's exit status, once the engine knows it (the stream may end a moment before)."""
        for _ in range(_EXIT_POLLS):
            state = await self._inspect()
            if not state.get("Running") and state.get("ExitCode") is not None:
                return int(state["ExitCode"])
            await asyncio.sleep(0.05)
        raise DriverError("exec: the engine did not report an exit status within 5 s.")

    async def hang_up(self) -> bool:
        """Send SIGHUP to the command if it still runs, as a terminal hang-up would; whether it was sent.

        Docker leaves an exec running when its connection closes, so a shell whose caller went away
        would wait for input for ever. The engine reports the command's host pid; the signal goes
        only to a process whose cgroup names this container, so an agent in another pid namespace
        (a container without ``--pid host``) never signals a stranger that happens to share the pid.
        """
        state = await self._inspect()
        pid = int(state.get("Pid") or 0) if state.get("Running") else 0
        return bool(pid) and await asyncio.to_thread(_hang_up, pid, self._container_id)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()


def _hang_up(pid: int, container_id: str) -> bool:
    try:
        if container_id not in Path(f"/proc/{pid}/cgroup").read_text():
            return False
        os.kill(pid, signal.SIGHUP)
    except OSError:
        return False
    return True
