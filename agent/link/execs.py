"""Run the commands the controller relays (``minecs exec``, docs/protocol.md "Exec"), and audit them.

For each exec request in a poll answer the agent dials the controller's WebSocket for it, finds the
container in its own record of the task (so it runs commands only in containers of tasks it runs),
starts a Docker exec, and copies frames between the two until the command ends (``{"exit": N}`` is
the last frame) or the caller goes away, in which case the command is hung up (SIGHUP) so a shell
does not wait for input for ever.

Audit: every request leaves lines in the agent's log, with the caller (``user``, as the CLI declared
it, and ``principal``, the admin access key id the controller checked), the task, the container and
the command: ``exec refused`` (with the reason), or ``exec started`` then ``exec ended`` (with the
exit code, or ``hung_up`` when the caller left first). The session's bytes are not logged.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from agent.link.client import ControllerClient, Identity
from agent.link.served import Served, container_of
from agent.runtime.base import ExecSession
from agent.tasks.engine import Engine
from minecs.aiotasks import guard
from minecs.errors import MinecsError
from minecs.logs import get_logger

log = get_logger(__name__)
STDIN = 0


class ExecSessions(Served):
    kind = "exec"

    def __init__(self, client: ControllerClient, identity: Identity, engine: Engine) -> None:
        super().__init__()
        self.client, self.identity, self.engine = client, identity, engine

    async def _serve(self, request: dict[str, Any]) -> None:
        audit = {
            "user": request.get("user"),
            "principal": request.get("principal"),
            "task": request["taskArn"],
            "container": request["container"],
            "command": list(request["command"]),
            "tty": bool(request.get("tty")),
        }
        async with self.client.exec_channel(self.identity, request["id"]) as channel:
            try:
                runtime_id = container_of(self.engine, request["taskArn"], request["container"])
                session = await self.engine.driver.exec(runtime_id, audit["command"], tty=audit["tty"])
            except MinecsError as exc:
                log.warning("exec refused", **audit, reason=exc.message)
                await channel.send_json({"error": exc.message})
                return
            log.info("exec started", **audit)
            started = time.monotonic()
            try:
                code = await _relay(channel, session)
            finally:
                await session.close()
            seconds = round(time.monotonic() - started, 3)
            if code is None:
                log.info("exec ended", **audit, hung_up=True, seconds=seconds)
            else:
                log.info("exec ended", **audit, exit_code=code, seconds=seconds)


async def _relay(channel: aiohttp.ClientWebSocketResponse, session: ExecSession) -> int | None:
    """Copy both ways; the exit code, or None when the caller went away first (the command is hung up)."""
    codes: list[int] = []

    async def output_then_code() -> None:
        codes.append(await _output(channel, session))

    output = asyncio.create_task(guard("exec output", output_then_code), name="exec output")
    caller = asyncio.create_task(guard("exec input", lambda: _input(channel, session)), name="exec input")
    try:
        await asyncio.wait({output, caller}, return_when=asyncio.FIRST_COMPLETED)
        if output.done():
            failure = output.result().error
            if failure is not None:
                raise failure
            return codes[0]
        await session.hang_up()
        return None
    finally:
        for pump in (output, caller):
            pump.cancel()
        await asyncio.gather(output, caller, return_exceptions=True)


async def _output(channel: aiohttp.ClientWebSocketResponse, session: ExecSession) -> int:
    while (frame := await session.read()) is not None:
        stream, data = frame
        await channel.send_bytes(bytes([stream]) + data)
    code = await session.wait()
    await channel.send_json({"exit": code})
    return code


async def _input(channel: aiohttp.ClientWebSocketResponse, session: ExecSession) -> None:
    """Apply the caller's frames until the channel closes or the controller says the caller is gone."""
    async for message in channel:
        if message.type is aiohttp.WSMsgType.BINARY and message.data[:1] == bytes([STDIN]):
            await session.write(message.data[1:])
        elif message.type is aiohttp.WSMsgType.TEXT:
            control = json.loads(message.data)
            if control.get("eof"):
                await session.close_input()
            elif "resize" in control:
                await session.resize(int(control["resize"]["rows"]), int(control["resize"]["cols"]))
            elif "error" in control:
                return
        else:
            return
