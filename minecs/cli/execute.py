"""``minecs exec TASK [-c CONTAINER] CMD...``: the ECS Exec analogue (docs/protocol.md, "Exec").

The command is every word from the first one after TASK that is not an option of exec (or every
word after ``--``), so ``minecs exec TASK sh -c 'echo hi'`` runs ``sh -c 'echo hi'``: exec's options
go before TASK, or after it and before the command (``split_command``).

The session is a WebSocket to the controller, which joins it to one the task's agent opens. Like
``kubectl exec -it``/``docker exec -it``, a terminal is allocated when stdin and stdout are both
terminals (``--tty``/``--no-tty`` decide otherwise); the local terminal is then put in raw mode, so
keys such as Ctrl-C reach the remote command, and its size follows the window (SIGWINCH). Stdin is
always forwarded, and its end closes the command's input, as ``docker exec -i`` does. The exit status
is the command's; a refusal or a lost session is 1 with the reason on stderr.

Stdin is read by a daemon thread, because a blocking read of a terminal or a regular file cannot be
awaited portably, and a daemon thread never holds the process open after the session ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import signal
import socket
import sys
import termios
import threading
import tty as ttys
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from minecs import settings
from minecs.adminclient import admin_headers
from minecs.aiotasks import spawn
from minecs.cli.client import endpoint_of
from minecs.cli.kinds import resolve_task
from minecs.errors import MinecsError

STDIN, STDOUT, STDERR = 0, 1, 2

EXEC_OPTIONS = {
    "-c": True,
    "--container": True,
    "-t": False,
    "--tty": False,
    "--no-tty": False,
    "--endpoint": True,
    "--cluster": True,
    "--data-dir": True,
    "-h": False,
    "--help": False,
}
"""Every option of ``minecs exec``, and whether it takes a value (a unit test holds it to the parser)."""
GLOBAL_OPTIONS = {"--config": True, "--version": False, "-h": False, "--help": False}


def split_command(words: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """``minecs [--config F] exec [OPTIONS] TASK [OPTIONS] CMD...`` -> (what argparse reads, CMD).

    CMD is None when the subcommand is not exec. An option exec does not know, written before TASK,
    is left to argparse to refuse; after TASK, it is the command's first word."""
    at = 0
    while at < len(words) and (width := _option_width(words[at], GLOBAL_OPTIONS)):
        at += width
    if at >= len(words) or words[at] != "exec":
        return list(words), None
    at, task_at = at + 1, None
    while at < len(words):
        word = words[at]
        if word == "--":
            if task_at is None:  # 'exec [OPTIONS] -- TASK CMD...'
                return [*words[:at], *words[at + 1 : at + 2]], list(words[at + 2 :])
            return list(words[:at]), list(words[at + 1 :])
        width = _option_width(word, EXEC_OPTIONS)
        if width or (word.startswith("-") and task_at is None):
            at += width or 1
        elif task_at is None:
            task_at, at = at, at + 1
        else:
            return list(words[:at]), list(words[at:])
    return list(words), []


def _option_width(word: str, options: dict[str, bool]) -> int:
    """How many words the option ``word`` takes up with its value (``-c web``: 2, ``-cweb``: 1);
    0 when ``word`` is none of ``options``."""
    name = word.split("=", 1)[0]
    if name in options:
        return 2 if options[name] and "=" not in word else 1
    if not word.startswith("--") and options.get(word[:2]) and len(word) > 2:
        return 1
    return 0


def _url(args: argparse.Namespace, command: list[str], tty: bool) -> str:
    query: list[tuple[str, str]] = [("command", c) for c in command]
    for name in ("container", "cluster"):
        if getattr(args, name, None):
            query.append((name, getattr(args, name)))
    if tty:
        query.append(("tty", "1"))
    return f"{endpoint_of(args).rstrip('/')}/v1/tasks/{quote(args.task, safe='')}/exec?{urlencode(query)}"


NOT_ENABLED_HINT = (
    "(minecs: run the task with 'minecs run-task --enable-execute-command', or set"
    " enableExecuteCommand: true on its service and let it start new tasks)"
)


async def exec_command(args: argparse.Namespace, config: settings.Settings) -> int:
    command = list(args.argv)
    if not command:
        raise MinecsError("exec: give the command after the task, for example: minecs exec TASK sh")
    args.task = await resolve_task(args, config, args.task)
    tty = args.tty if args.tty is not None else sys.stdin.isatty() and sys.stdout.isatty()
    headers = {
        **admin_headers(args.data_dir or config.data_dir),
        "Minecs-User": f"{getpass.getuser()}@{socket.gethostname()}",
    }
    async with aiohttp.ClientSession() as session:
        try:
            channel = await session.ws_connect(_url(args, command, tty), headers=headers, heartbeat=30)
        except aiohttp.WSServerHandshakeError as exc:
            refusal = exc.headers.get("Minecs-Error") if exc.headers else None
            refusal = refusal or f"HTTP {exc.status} {exc.message}"
            if "execute command was not enabled" in refusal:
                refusal += f" {NOT_ENABLED_HINT}"
            raise MinecsError(refusal) from exc
        except aiohttp.ClientError as exc:
            raise MinecsError(f"controller {endpoint_of(args)} unreachable: {exc}") from exc
        async with channel:
            with _raw_terminal(tty):
                return await _session(channel, tty)


async def _session(channel: aiohttp.ClientWebSocketResponse, tty: bool) -> int:
    loop = asyncio.get_running_loop()
    if tty:
        await _send_size(channel)
        loop.add_signal_handler(signal.SIGWINCH, lambda: spawn("exec resize", _send_size(channel)))
    sending = spawn("exec stdin", _send_input(channel))
    try:
        return await _receive(channel)
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        if tty:
            loop.remove_signal_handler(signal.SIGWINCH)


async def _receive(channel: aiohttp.ClientWebSocketResponse) -> int:
    outputs = {STDOUT: sys.stdout.buffer, STDERR: sys.stderr.buffer}
    async for message in channel:
        if message.type is aiohttp.WSMsgType.BINARY and message.data[:1] in (b"\x01", b"\x02"):
            out = outputs[message.data[0]]
            out.write(message.data[1:])
            out.flush()
        elif message.type is aiohttp.WSMsgType.TEXT:
            control: dict[str, Any] = json.loads(message.data)
            if "exit" in control:
                return int(control["exit"])
            if "error" in control:
                raise MinecsError(f"exec: {control['error']}")
    raise MinecsError("exec: the session ended without an exit status (the controller or agent went away).")


async def _send_input(channel: aiohttp.ClientWebSocketResponse) -> None:
    chunks: asyncio.Queue[bytes] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read() -> None:
        while True:
            try:
                data = os.read(sys.stdin.fileno(), 65536)
            except (OSError, ValueError, AttributeError):  # closed, or no stdin at all
                data = b""
            loop.call_soon_threadsafe(chunks.put_nowait, data)
            if not data:
                return

    threading.Thread(target=read, name="exec stdin", daemon=True).start()
    while data := await chunks.get():
        await channel.send_bytes(bytes([STDIN]) + data)
    await channel.send_json({"eof": True})


async def _send_size(channel: aiohttp.ClientWebSocketResponse) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        size = os.get_terminal_size(sys.stdout.fileno())
        await channel.send_json({"resize": {"rows": size.lines, "cols": size.columns}})


@contextlib.contextmanager
def _raw_terminal(tty: bool) -> Iterator[None]:
    """Raw mode for the session when stdin is a terminal; the old mode comes back however it ends."""
    if not tty or not sys.stdin.isatty():
        yield
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    ttys.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
