"""CLI commands on the controller's objects: get, describe, run-task, stop-task, scale, delete, events.

Each is one or two native API calls (``minecs.cli.client.admin_call``) and a view from
``minecs.cli.views``. ``delete -f`` reads the same manifests as ``apply`` and removes what they
name: services (forced, so they drain), task definitions (every ACTIVE revision deregistered, as
deleting the object means) and clusters.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

from minecs import settings
from minecs.cli.client import admin_call
from minecs.cli.kinds import PLURAL, resolve_task
from minecs.cli.reasons import reasons
from minecs.cli.views import aligned, describe, events_table, render, rows, widths_of
from minecs.errors import MinecsError

LISTS = {
    "clusters": ("/v1/clusters", "clusters"),
    "taskdefs": ("/v1/taskdefinitions", "taskDefinitionArns"),
    "tasks": ("/v1/tasks", "tasks"),
    "services": ("/v1/services", "services"),
    "instances": ("/v1/instances", "containerInstances"),
}
ONE = {
    "cluster": ("/v1/clusters/{}", "cluster"),
    "taskdef": ("/v1/taskdefinitions/{}", "taskDefinition"),
    "task": ("/v1/tasks/{}", "task"),
    "service": ("/v1/services/{}", "service"),
    "instance": ("/v1/instances/{}", "containerInstance"),
}
DELETES = {
    "cluster": "/v1/clusters/{}",
    "taskdef": "/v1/taskdefinitions/{}",
    "service": "/v1/services/{}",
}


def _query(args: argparse.Namespace, **more: object) -> str:
    values = {"cluster": getattr(args, "cluster", None), **more}
    kept = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in values.items()
        if v not in (None, False)
    }
    return f"?{urlencode(kept)}" if kept else ""


def _named(args: argparse.Namespace) -> str | None:
    """NAME from ``KIND/NAME`` or from the word after KIND."""
    name: str | None = args.kind.name or args.name
    return name


async def _one(args: argparse.Namespace, config: settings.Settings, kind: str, name: str) -> Any:
    """One object, as the API describes it; a task named by a unique id prefix."""
    if kind == "task":
        name = await resolve_task(args, config, name)
    path, member = ONE[kind]
    answer = await admin_call(args, config, "GET", path.format(quote(name, safe="")) + _query(args), None)
    return answer if kind == "taskdef" else answer[member]


async def _listed(args: argparse.Namespace, config: settings.Settings) -> list[Any]:
    kind, name = args.kind.kind, _named(args)
    if name is not None:
        found = await _one(args, config, kind, name)
        # A task definition lists as its ARN, as ListTaskDefinitions does.
        return [found["taskDefinition"]["taskDefinitionArn"] if kind == "taskdef" else found]
    path, member = LISTS[PLURAL[kind]]
    listed: list[Any] = (await admin_call(args, config, "GET", path + _query(args), None))[member]
    return listed


async def get_objects(args: argparse.Namespace, config: settings.Settings) -> int:
    """``get KIND [NAME] [-o ...] [-w]``: a table (or JSON/YAML); with ``-w``, each change after it."""
    plural = PLURAL[args.kind.kind]
    items = await _listed(args, config)
    print(render(plural, items, args.output), flush=True)
    if args.watch:
        await watch(args, config, plural, items)
    return 0


async def watch(args: argparse.Namespace, config: settings.Settings, plural: str, items: list[Any]) -> None:
    """As ``kubectl get -w``: the rows that changed since the last look, every second, until Ctrl-C.
    A table keeps the column widths of the first listing (wider when a value needs it); JSON and
    YAML print each changed object whole."""
    wide = args.output == "wide"
    seen = {_key(item): item for item in items}
    widths = widths_of(rows(plural, items, wide=wide))
    while True:
        await asyncio.sleep(1.0)
        current = await _listed(args, config)
        changed = [item for item in current if seen.get(_key(item)) != item]
        seen = {_key(item): item for item in current}
        if not changed:
            continue
        if args.output in ("json", "yaml"):
            print(render(plural, changed, args.output), flush=True)
            continue
        cells = rows(plural, changed, wide=wide)[1:]
        widths = [max(w, *(len(row[i]) for row in cells)) for i, w in enumerate(widths)]
        print("\n".join(aligned(cells, widths)), flush=True)


def _key(item: Any) -> str:
    if isinstance(item, str):
        return item
    for member in ("taskArn", "serviceArn", "clusterArn", "containerInstanceArn"):
        if member in item:
            return str(item[member])
    return str(item)


async def describe_object(args: argparse.Namespace, config: settings.Settings) -> int:
    """One object in full; without a name, every object of the kind, as ``kubectl describe svc``."""
    kind, name = args.kind.kind, _named(args)
    names = [name] if name is not None else [_short_name(kind, item) for item in await _listed(args, config)]
    for index, each in enumerate(names):
        found = await _one(args, config, kind, each)
        print(("\n" if index else "") + describe(found["taskDefinition"] if kind == "taskdef" else found))
    return 0


def _short_name(kind: str, item: Any) -> str:
    member = {"cluster": "clusterName", "task": "taskArn", "service": "serviceName", "instance": "instanceId"}
    return str(item if kind == "taskdef" else item[member[kind]]).rsplit("/", 1)[-1]


async def run_task(args: argparse.Namespace, config: settings.Settings) -> int:
    body: dict[str, Any] = {"taskDefinition": args.taskdef, "count": args.count, "cluster": args.cluster}
    if args.started_by:
        body["startedBy"] = args.started_by
    if args.group:
        body["group"] = args.group
    if args.enable_execute_command:
        body["enableExecuteCommand"] = True
    if args.instance:
        body["containerInstances"] = args.instance
    task_size = {k: v for k, v in (("cpu", args.cpu), ("memory", args.memory)) if v is not None}
    if task_size:
        body["overrides"] = task_size
    try:
        answer = await admin_call(args, config, "POST", "/v1/tasks", body)
    except MinecsError as exc:
        if "Unable to describe task definition" in exc.message:
            raise MinecsError(
                f"task definition {args.taskdef!r} not found ({exc.message}); 'minecs get taskdefs' lists them"
            ) from exc
        raise
    tasks = answer["tasks"]
    print(render("tasks", tasks, args.output))
    if not args.wait:
        return 0
    return await _wait_running(args, config, [t["taskArn"].rsplit("/", 1)[-1] for t in tasks])


async def _wait_running(args: argparse.Namespace, config: settings.Settings, ids: list[str]) -> int:
    """Until every task is RUNNING; a stop or the timeout ends it with each task's reason (its stop
    code, stopped reason and exit codes, or why it waits for placement), as ``describe task`` says."""
    deadline = time.monotonic() + args.timeout
    tasks: list[Any] = []
    while time.monotonic() < deadline:
        tasks = [
            (await admin_call(args, config, "GET", f"/v1/tasks/{i}{_query(args)}", None))["task"] for i in ids
        ]
        if any(t["lastStatus"] == "STOPPED" for t in tasks):
            print("minecs: a task stopped before it ran:", file=sys.stderr)
            _explain(t for t in tasks if t["lastStatus"] == "STOPPED")
            return 1
        if all(t["lastStatus"] == "RUNNING" for t in tasks):
            print("all tasks RUNNING", file=sys.stderr)
            return 0
        await asyncio.sleep(0.5)
    print(f"minecs: timed out after {args.timeout:g} s waiting for the tasks to run", file=sys.stderr)
    _explain(tasks)
    return 1


def _explain(tasks: Iterable[Any]) -> None:
    for line in reasons(tasks):
        print(f"  {line}", file=sys.stderr)


async def stop_task(args: argparse.Namespace, config: settings.Settings) -> int:
    body = {"cluster": args.cluster, "reason": args.reason}
    task_id = await resolve_task(args, config, args.task)
    answer = await admin_call(args, config, "POST", f"/v1/tasks/{quote(task_id, safe='')}/stop", body)
    task = answer["task"]
    print(f"task/{task['taskArn'].rsplit('/', 1)[-1]} stopping ({task.get('stoppedReason')})")
    return 0


async def scale_service(args: argparse.Namespace, config: settings.Settings) -> int:
    body = {"cluster": args.cluster, "desiredCount": args.count}
    answer = await admin_call(args, config, "PATCH", f"/v1/services/{quote(args.service, safe='')}", body)
    print(f"service/{answer['service']['serviceName']} scaled to {answer['service']['desiredCount']}")
    return 0


async def delete_objects(args: argparse.Namespace, config: settings.Settings) -> int:
    if args.filename:
        targets = _targets_from_files(args.filename)
    elif args.kind is not None and (args.kind.name or args.name):
        targets = [(args.kind.kind, args.kind.name or args.name)]
    else:
        raise MinecsError("delete needs KIND NAME (or KIND/NAME), or -f PATH")
    for kind, name in targets:
        if kind not in DELETES:
            raise MinecsError(
                f"delete takes a cluster, taskdef or service, not a {kind}; 'minecs stop-task' stops a task"
            )
        force = kind == "service" and (args.force or bool(args.filename))
        path = DELETES[str(kind)].format(quote(str(name), safe="")) + _query(args, force=force)
        try:
            await admin_call(args, config, "DELETE", path, None)
        except MinecsError as exc:
            if kind == "service" and "scaled above 0" in exc.message:
                raise MinecsError(
                    f"{exc.message} 'minecs scale {name} 0' first, or 'minecs delete service {name} --force' "
                    "to delete it now (its tasks drain and stop)"
                ) from exc
            raise
        print(f"{kind}/{name} deleted")
    return 0


def _targets_from_files(paths: list[str]) -> list[tuple[str | None, str | None]]:
    from minecs.errors import FieldProblem, ValidationError
    from minecs.manifestfiles import read_sources
    from minecs.manifests import Kind, parse_text

    problems: list[FieldProblem] = []
    documents = [d for name, text in read_sources(paths, sys.stdin, problems) for d in parse_text(text, name)]
    if problems:
        raise ValidationError(problems)
    order = {Kind.SERVICE: 0, Kind.TASK_DEFINITION: 1, Kind.CLUSTER: 2}  # the reverse of apply's order
    targets: list[tuple[str | None, str | None]] = []
    for doc in sorted(documents, key=lambda d: order[d.kind]):
        body: Any = doc.body
        if doc.kind is Kind.SERVICE:
            targets.append(("service", body.service_name))
        elif doc.kind is Kind.TASK_DEFINITION:
            targets.append(("taskdef", body.family))
        elif (body.cluster_name or "default") != "default":
            targets.append(("cluster", body.cluster_name))
    return targets


async def service_events(args: argparse.Namespace, config: settings.Settings) -> int:
    """Service and task events, newest last (like ``kubectl get events``); ``--follow`` keeps printing."""
    path = "/v1/events" + _query(args, service=args.service)
    seen: set[str] = set()
    first = True
    while True:
        answer = await admin_call(args, config, "GET", path, None)
        fresh = [e for e in reversed(answer["events"][: args.limit]) if _event_key(e) not in seen]
        seen.update(_event_key(e) for e in fresh)
        if fresh or first:
            print(events_table(fresh, service=args.service is None), flush=True)
        first = False
        if not args.follow:
            return 0
        await asyncio.sleep(2)


def _event_key(event: Any) -> str:
    return f"{event.get('serviceName', '')}/{event['id']}"
