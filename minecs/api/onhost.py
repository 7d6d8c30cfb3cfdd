"""What only a task's host has: its containers' logs and a command run inside one (``minecs exec``).

Both go through the task's agent with a ``Relay`` (``minecs.api.relay``), since the controller never
dials an agent: docs/protocol.md, "Logs" and "Exec". Both routes of each pair live here, the
caller's (admin) and the agent's (instance credential), so the hand-over reads in one place.

Exec is refused before the WebSocket upgrade for what ECS's ExecuteCommand refuses: a task that is
not RUNNING, or that was not launched with ``enableExecuteCommand``. After the upgrade the
controller copies frames between the caller and the agent unchanged until either side closes; it
never reads them, so a session costs it two sockets and nothing else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from minecs.aiotasks import spawn
from minecs.api.auth import instance_of, require_admin
from minecs.api.keys import EXECS, LOGS, PLANE
from minecs.api.relay import Upload
from minecs.errors import (
    AgentUnavailableError,
    ClientError,
    InvalidParameterError,
    MinecsError,
    NotFoundError,
)
from minecs.logs import get_logger

log = get_logger(__name__)
routes = web.RouteTableDef()

EXEC_NOT_ENABLED = (
    "The execute command failed because execute command was not enabled when the task was run or the "
    "execute command agent isn't running. Wait and try again or run a new task with execute command "
    "enabled and try again."
)
"""ECS's own refusal (InvalidParameterException) for a task launched without enableExecuteCommand."""


@dataclass(frozen=True)
class Target:
    task: Any
    container: str
    instance_id: str


async def _target(request: web.Request, what: str) -> Target:
    """The task, its container (``?container=``, optional when it has one) and its connected agent."""
    plane = request.app[PLANE]
    found, missing = await plane.tasks.describe(request.query.get("cluster"), [request.match_info["id"]])
    if not found:
        raise NotFoundError(f"Task {missing[0].arn} not found.", code="ClientException")
    task = found[0]
    container = _container(task, request.query.get("container"))
    if not task.get("instanceId"):
        raise ClientError(f"The task is not placed on a container instance yet; it has no {what}.")
    instance = await plane.instances.get(task["instanceId"])
    if not instance["agentConnected"]:
        raise AgentUnavailableError(
            f"The agent of container instance {instance['instanceId']} is not connected; "
            f"its {what} stay on the host."
        )
    return Target(task, container, instance["instanceId"])


def _container(task: Any, wanted: str | None) -> str:
    names = [c["name"] for c in task["containers"]]
    if wanted is None and len(names) == 1:
        return str(names[0])
    if wanted is None:
        raise ClientError(
            f"container: the task has {len(names)} containers; choose one of {', '.join(names)}."
        )
    if wanted not in names:
        raise ClientError(f"container: the task has no container {wanted!r}; it has {', '.join(names)}.")
    return wanted


def _flag(raw: str | None) -> bool:
    return (raw or "") in ("1", "true")


# ---------------------------------------------------------------------------------------------- logs
@routes.get("/v1/tasks/{id}/logs")
async def task_logs(request: web.Request) -> web.StreamResponse:
    """A container's output, relayed from its agent (``?container=&follow=1&tail=N``), as plain text."""
    require_admin(request)
    tail = _tail(request.query.get("tail"))
    target = await _target(request, "logs")
    relay = request.app[LOGS]
    wire = {
        "taskArn": target.task["taskArn"],
        "container": target.container,
        "follow": _flag(request.query.get("follow")),
        "tail": tail,
    }
    pending = relay.open(target.instance_id, wire)
    try:
        await request.app[PLANE].versions.bump(target.instance_id)  # wakes the agent's parked poll
        upload = await relay.attached(pending)
        if upload.error is not None or upload.reader is None:
            raise ClientError(upload.error or "The agent sent no logs.")
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        await _copy(upload.reader, response, request)
        return response
    finally:
        relay.close(pending)


def _tail(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ClientError(f"tail: {raw!r} is not a number of lines.")
    return int(raw)


async def _copy(reader: Any, response: web.StreamResponse, request: web.Request) -> None:
    """Copy the agent's upload to the caller until it ends or the caller goes away."""
    while True:
        try:
            chunk = await asyncio.wait_for(reader.readany(), 1.0)
        except TimeoutError:
            if request.transport is None or request.transport.is_closing():
                return  # the caller left; closing the request answers the agent, which stops reading
            continue
        if not chunk:
            await response.write_eof()
            return
        try:
            await response.write(chunk)
        except ConnectionResetError:
            return


@routes.post("/agent/v1/instances/{id}/logs/{request}")
async def upload_logs(request: web.Request) -> web.Response:
    """The body is the container's output, streamed; ``Minecs-Log-Error`` says why there is none."""
    instance_id = await instance_of(request)
    error = request.headers.get("Minecs-Log-Error")
    upload = Upload(reader=None if error else request.content, error=error)
    relayed = request.app[LOGS].attach(instance_id, request.match_info["request"], upload)
    await relayed.finished.wait()
    return web.json_response({"ok": True})


# ---------------------------------------------------------------------------------------------- exec
@routes.get("/v1/tasks/{id}/exec")
async def task_exec(request: web.Request) -> web.StreamResponse:
    """Run ``?command=ARG&command=ARG…`` in a task's container (``?container=&tty=1``) over a WebSocket.

    A refusal is the usual JSON error, which also carries ``Minecs-Error: <code>: <message>``
    (``minecs.api.middleware``), because a WebSocket client sees the status and headers of a refused
    upgrade but not its body."""
    principal = require_admin(request)
    target, command = await _exec_target(request)
    caller = web.WebSocketResponse(heartbeat=30)
    if not caller.can_prepare(request).ok:
        raise ClientError("exec needs a WebSocket upgrade (minecs exec does it).")
    await caller.prepare(request)
    relay = request.app[EXECS]
    wire = {
        "taskArn": target.task["taskArn"],
        "container": target.container,
        "command": command,
        "tty": _flag(request.query.get("tty")),
        "user": request.headers.get("Minecs-User", "unknown"),
        "principal": principal,
    }
    pending = relay.open(target.instance_id, wire)
    try:
        await request.app[PLANE].versions.bump(target.instance_id)
        try:
            agent = await relay.attached(pending)
        except AgentUnavailableError as exc:
            await caller.send_json({"error": exc.message})
            return caller
        await _join(caller, agent)
    finally:
        relay.close(pending)
        await caller.close()
    return caller


async def _exec_target(request: web.Request) -> tuple[Target, list[str]]:
    """What ECS's ExecuteCommand checks: a RUNNING task launched with enableExecuteCommand."""
    target = await _target(request, "containers")
    if target.task["lastStatus"] != "RUNNING":
        raise InvalidParameterError(
            f"The task is {target.task['lastStatus']}; a command runs only in a RUNNING task."
        )
    if not target.task.get("enableExecuteCommand"):
        raise InvalidParameterError(EXEC_NOT_ENABLED)
    command = request.query.getall("command", [])
    if not command or not command[0]:
        raise ClientError("command: is required (the program to run and its arguments).")
    return target, command


async def _join(caller: web.WebSocketResponse, agent: web.WebSocketResponse) -> None:
    """Copy frames both ways until one side closes, then close the other."""
    pumps = [
        spawn("exec caller→agent", _pump(caller, agent)),
        spawn("exec agent→caller", _pump(agent, caller)),
    ]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        await agent.close()


async def _pump(source: web.WebSocketResponse, sink: web.WebSocketResponse) -> None:
    async for message in source:
        if message.type is WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        else:
            return


@routes.get("/agent/v1/instances/{id}/exec/{request}")
async def agent_exec(request: web.Request) -> web.StreamResponse:
    """The agent's end of an exec session: held open until the caller's handler is done with it."""
    instance_id = await instance_of(request)
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    try:
        pending = request.app[EXECS].attach(instance_id, request.match_info["request"], socket)
    except MinecsError as exc:
        # The caller gave up (or never was): tell the agent, which then runs nothing.
        await socket.send_json({"error": exc.message})
        await socket.close()
        return socket
    await pending.finished.wait()
    await socket.close()
    return socket
