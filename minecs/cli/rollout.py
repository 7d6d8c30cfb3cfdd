"""``minecs rollout status|history|undo SERVICE``: a service's rollouts, as ``kubectl rollout`` shows
a Deployment's.

``status`` is ``apply --wait``'s wait (``minecs.cli.client.wait_steady``) for one service: it follows
the PRIMARY deployment it finds, prints ``demo-web:3 2/2 new running, 0 old`` on stderr whenever
that changes, and ends 0 once the service is steady, or 1 with the tasks' reasons when the
deployment fails (the circuit breaker's rollback included) or the timeout passes.

``history`` is one row per task-definition revision the service is known to have run, newest last.
ECS drops a deployment once its last task has stopped, and the controller forgets a stopped task an
hour after it stopped (``controller.stopped_task_retention``), so the revisions are read from three
places: the deployments listed now, the service's tasks still known (a task's ``startedBy`` is its
deployment), and the last COMPLETED deployment the service remembers (where the circuit breaker rolls
back to). A revision older than all of these is not shown; ``undo --to-revision N`` still reaches it.

``undo`` is UpdateService to the newest revision of that history other than the current one, so a
second undo goes back again, as kubectl's does; ``--to-revision N`` picks revision N of the
service's family. Parsing is here too (``add_parsers``); the work imports the HTTP client only when
a command runs, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from minecs import settings
from minecs.errors import MinecsError


def add_parsers(commands: Any) -> None:
    rollout = commands.add_parser(
        "rollout", help="a service's rollout: wait for it, its history, undo it (as kubectl rollout)"
    )
    actions = rollout.add_subparsers(dest="rollout_command", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="wait until the service is steady; 1 if its rollout fails")
    status.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    history = actions.add_parser("history", help="the task-definition revisions the service has run")
    undo = actions.add_parser("undo", help="put the service back on the revision it ran before")
    undo.add_argument("--to-revision", type=int, default=None, metavar="N", help="revision N of its family")
    for parser in (status, history, undo):
        parser.add_argument("service")
        parser.add_argument("--endpoint", default=None, help="the controller (also MINECS_ENDPOINT)")
        parser.add_argument("--cluster", default=None, help="cluster name (default: default)")
        parser.add_argument(
            "--data-dir", type=Path, default=None, help="state directory (also MINECS_DATA_DIR)"
        )
    rollout.set_defaults(handler=run_rollout)


def run_rollout(args: argparse.Namespace, config: settings.Settings) -> int:
    action = {"status": _status, "history": _history, "undo": _undo}[args.rollout_command]
    try:
        return asyncio.run(action(args, config))
    except KeyboardInterrupt:  # Ctrl-C ends the wait of 'status'; nothing is left half done
        return 130


@dataclass(frozen=True)
class Revision:
    """A task-definition revision the service ran: when its latest deployment began, and its state now."""

    task_definition: str
    """``family:revision``."""
    created: float | None
    status: str
    """``PRIMARY (COMPLETED)``, ``ACTIVE (IN_PROGRESS)``, ...: its deployment's; INACTIVE once replaced."""

    @property
    def number(self) -> int:
        return int(self.task_definition.rsplit(":", 1)[-1])


def _short(arn: object) -> str:
    return str(arn).rsplit("/", 1)[-1]


def history(service: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]]) -> list[Revision]:
    """The revisions ``service`` is known to have run, one each, the newest (latest begun) last."""
    revision_of: dict[str, str] = {}  # by deployment id
    began: dict[str, float] = {}  # by deployment id: its createdAt, else its first task's
    remembered = service.get("lastCompletedDeployment")
    if remembered and service.get("lastCompletedTaskDefinition"):
        revision_of[remembered] = _short(service["lastCompletedTaskDefinition"])
    for task in tasks:
        deployment = task.get("startedBy")
        if task.get("group") != f"service:{service['serviceName']}" or not deployment:
            continue
        revision_of[deployment] = _short(task["taskDefinitionArn"])
        if task.get("createdAt") is not None:
            began[deployment] = min(began.get(deployment, task["createdAt"]), task["createdAt"])
    listed: dict[str, str] = {}  # by revision: the state of its deployment listed now
    for deployment in service["deployments"]:
        revision_of[deployment["id"]] = _short(deployment["taskDefinition"])
        if deployment.get("createdAt") is not None:
            began[deployment["id"]] = deployment["createdAt"]
        state = f"{deployment['status']} ({deployment.get('rolloutState', '-')})"
        listed.setdefault(revision_of[deployment["id"]], state)  # the PRIMARY one is listed first
    latest: dict[str, float | None] = {}
    for deployment, revision in revision_of.items():
        moment = began.get(deployment)
        if revision not in latest or (moment or 0) > (latest[revision] or 0):
            latest[revision] = moment
    rows = [Revision(r, moment, listed.get(r, "INACTIVE")) for r, moment in latest.items()]
    return sorted(rows, key=lambda r: (r.created or 0, r.status.startswith("PRIMARY"), r.number))


def previous(rows: list[Revision], current: str) -> Revision | None:
    """The revision ``undo`` goes back to: the newest of ``rows`` that is not ``current``."""
    others = [r for r in rows if r.task_definition != current]
    return others[-1] if others else None


def history_table(rows: list[Revision]) -> str:
    cells = [["REVISION", "TASKDEF", "CREATED", "STATUS"]]
    for row in rows:
        created = (
            datetime.fromtimestamp(row.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if row.created else "-"
        )
        cells.append([str(row.number), row.task_definition, created, row.status])
    widths = [max(len(line[i]) for line in cells) for i in range(4)]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def _cluster(args: argparse.Namespace) -> str:
    return f"?{urlencode({'cluster': args.cluster})}" if args.cluster else ""


async def _service_and_history(
    args: argparse.Namespace, config: settings.Settings
) -> tuple[Mapping[str, Any], list[Revision]]:
    from minecs.cli.client import admin_call

    name = quote(args.service.removeprefix("service/"), safe="")
    service = (await admin_call(args, config, "GET", f"/v1/services/{name}{_cluster(args)}", None))["service"]
    tasks = (await admin_call(args, config, "GET", f"/v1/tasks{_cluster(args)}", None))["tasks"]
    return service, history(service, tasks)


async def _status(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.client import admin_call, wait_steady

    name = args.service.removeprefix("service/")
    await admin_call(args, config, "GET", f"/v1/services/{quote(name, safe='')}{_cluster(args)}", None)
    return await wait_steady(args, config, [name], done=f'service "{name}" successfully rolled out')


async def _history(args: argparse.Namespace, config: settings.Settings) -> int:
    _, rows = await _service_and_history(args, config)
    print(history_table(rows))
    return 0


async def _undo(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.client import admin_call

    service, rows = await _service_and_history(args, config)
    name, current = service["serviceName"], _short(service["taskDefinition"])
    if args.to_revision is not None:
        target = f"{current.rsplit(':', 1)[0]}:{args.to_revision}"
    else:
        found = previous(rows, current)
        if found is None:
            raise MinecsError(
                f"rollout undo: service {name} has run no revision but {current} that minecs still knows"
                " of ('minecs rollout history' lists them); give --to-revision N"
            )
        target = found.task_definition
    if target == current:
        raise MinecsError(f"rollout undo: service {name} runs {current} already")
    body = {"cluster": args.cluster, "taskDefinition": target}
    await admin_call(args, config, "PATCH", f"/v1/services/{quote(name, safe='')}", body)
    print(f"service/{name} rolled back to {target}")
    return 0
