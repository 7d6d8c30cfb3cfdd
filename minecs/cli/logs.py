"""``minecs logs TASK`` and ``minecs logs [-f] service/NAME``: containers' output, through their agents.

Which container: ``-c``, else the task's only container, else its only essential one, which is said
on stderr (as ``kubectl logs`` says which container it defaulted to); a task with several essential
containers needs ``-c``, and the error lists them. ``service/NAME`` (or ``svc/NAME``) shows every
RUNNING task of the service, each line prefixed with the task's id (its first 8 characters), as
``docker compose logs`` prefixes each line with its service; with ``-f`` every task is followed at
once, tasks the service starts meanwhile are picked up (at most ``POLL_S`` later), and Ctrl-C ends it.

Design decision: a service's logs are merged by whole lines, never by chunks. Each task's stream is
cut at its newlines and a partial line is held until its end arrives, so two tasks writing at the same
moment never share a line of output.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from minecs import settings
from minecs.aiotasks import spawn
from minecs.cli.client import admin_call, admin_stream
from minecs.cli.kinds import resolve_task
from minecs.errors import MinecsError

SERVICE_PREFIXES = ("service/", "svc/")
POLL_S = 2.0
"""How often ``logs -f service/NAME`` looks for tasks the service started."""
ID_SHOWN = 8


@dataclass(frozen=True)
class Choice:
    """The container whose logs are shown, and why it was picked (None: there was no other)."""

    name: str
    why: str | None = None

    def notice(self) -> str | None:
        if self.why is None:
            return None
        return f'minecs: showing container "{self.name}" ({self.why}); -c picks another'


def choose_container(containers: Sequence[tuple[str, bool]]) -> Choice:
    """The only container, else the only essential one; ``containers`` is (name, essential) pairs."""
    names = [name for name, _ in containers]
    if len(names) == 1:
        return Choice(names[0])
    essential = [name for name, is_essential in containers if is_essential]
    if len(essential) == 1:
        return Choice(essential[0], "the task's only essential container")
    raise MinecsError(
        f"logs: the task has {len(names)} containers, {len(essential)} of them essential;"
        f" choose one with -c: {', '.join(names)}"
    )


class Prefixed:
    """One task's output as whole lines, each starting ``TASKID8 | ``."""

    def __init__(self, task_id: str) -> None:
        self.prefix = f"{task_id[:ID_SHOWN]} | ".encode()
        self.partial = b""

    def feed(self, chunk: bytes) -> bytes:
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        return b"".join(self.prefix + line + b"\n" for line in lines)

    def end(self) -> bytes:
        """The last line, when the stream ended without a newline."""
        rest, self.partial = self.partial, b""
        return self.prefix + rest + b"\n" if rest else b""


def service_target(word: str) -> str | None:
    """``service/NAME`` or ``svc/NAME`` -> NAME; None for a task id or ARN."""
    for prefix in SERVICE_PREFIXES:
        if word.startswith(prefix) and len(word) > len(prefix):
            return word[len(prefix) :]
    return None


def _short(arn: object) -> str:
    return str(arn).rsplit("/", 1)[-1]


def _query(args: argparse.Namespace, **values: object) -> str:
    kept = {"cluster": args.cluster, **values}
    shown = {k: "1" if v is True else str(v) for k, v in kept.items() if v not in (None, False)}
    return f"?{urlencode(shown)}" if shown else ""


@dataclass
class _Session:
    """What one ``logs`` command keeps: the task definitions it read, the notices it printed."""

    args: argparse.Namespace
    config: settings.Settings
    essential: dict[str, dict[str, bool]] = field(default_factory=dict)
    said: set[str] = field(default_factory=set)

    async def call(self, path: str) -> Any:
        return await admin_call(self.args, self.config, "GET", path, None)

    async def container(self, task: Mapping[str, Any]) -> str:
        """``-c``, or the choice for this task, its notice printed once per command."""
        if self.args.container:
            return str(self.args.container)
        names = [str(c["name"]) for c in task["containers"]]
        arn = str(task["taskDefinitionArn"])
        if len(names) > 1 and arn not in self.essential:
            body = (await self.call(f"/v1/taskdefinitions/{quote(_short(arn), safe='')}"))["taskDefinition"]
            self.essential[arn] = {c["name"]: c.get("essential", True) for c in body["containerDefinitions"]}
        flags = self.essential.get(arn, {})
        choice = choose_container([(n, flags.get(n, True)) for n in names])
        notice = choice.notice()
        if notice and notice not in self.said:
            self.said.add(notice)
            print(notice, file=sys.stderr, flush=True)
        return choice.name

    def stream(self, task: Mapping[str, Any], container: str, *, tail: int | None) -> Any:
        query = _query(self.args, container=container, follow=self.args.follow, tail=tail)
        path = f"/v1/tasks/{quote(_short(task['taskArn']), safe='')}/logs{query}"
        return admin_stream(self.args, self.config, path)


async def task_logs(args: argparse.Namespace, config: settings.Settings) -> int:
    session = _Session(args, config)
    service = service_target(args.task)
    if service is not None:
        return await _service_logs(session, service)
    task_id = await resolve_task(args, config, args.task)
    task = (await session.call(f"/v1/tasks/{quote(task_id, safe='')}{_query(args)}"))["task"]
    container = await session.container(task)
    async for chunk in session.stream(task, container, tail=args.tail):
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return 0


async def _running(session: _Session, service: str) -> list[Mapping[str, Any]]:
    tasks = (await session.call(f"/v1/tasks{_query(session.args)}"))["tasks"]
    return [
        t
        for t in tasks
        if t.get("group") == f"service:{service}"
        and t["lastStatus"] == "RUNNING"
        and t["desiredStatus"] == "RUNNING"
    ]


async def _service_logs(session: _Session, service: str) -> int:
    await session.call(f"/v1/services/{quote(service, safe='')}{_query(session.args)}")  # it exists
    tasks = await _running(session, service)
    if not tasks:
        print(f"minecs: service {service} has no RUNNING task", file=sys.stderr, flush=True)
    if not session.args.follow:
        for task in tasks:
            await _copy_prefixed(session, task, session.args.tail)
        return 0
    following: dict[str, asyncio.Task[None]] = {}
    tail = session.args.tail
    try:
        while True:
            for task in tasks:
                arn = str(task["taskArn"])
                if arn not in following:
                    following[arn] = spawn(f"logs {_short(arn)}", _follow(session, task, tail))
            await asyncio.sleep(POLL_S)
            # A task found after the start is new: all of its output is shown, not a tail.
            tasks, tail = await _running(session, service), None
    finally:
        for follower in following.values():
            follower.cancel()
        await asyncio.gather(*following.values(), return_exceptions=True)


async def _follow(session: _Session, task: Mapping[str, Any], tail: int | None) -> None:
    """One task's part of a service's follow: a refusal ends this task's part, not the command."""
    try:
        await _copy_prefixed(session, task, tail)
    except MinecsError as exc:
        print(f"minecs: task {_short(task['taskArn'])}: {exc.message}", file=sys.stderr, flush=True)


async def _copy_prefixed(session: _Session, task: Mapping[str, Any], tail: int | None) -> None:
    container = await session.container(task)
    lines = Prefixed(_short(task["taskArn"]))
    out = sys.stdout.buffer
    async for chunk in session.stream(task, container, tail=tail):
        out.write(lines.feed(chunk))
        out.flush()
    out.write(lines.end())
    out.flush()
