"""The parsers of the commands that call a running controller: apply, diff, get, describe, the task
and service commands, events and token. Kinds are read by ``minecs.cli.kinds.resource``, so
``svc``, ``services`` and ``svc/NAME`` all work, as in kubectl."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from minecs.cli.kinds import resource


def add_client_commands(commands: Any) -> None:
    """apply, get, token and the object commands: calls to a running controller."""
    apply = commands.add_parser("apply", help="make the controller match manifests (declarative)")
    apply.add_argument("-f", "--filename", action="append", required=True, metavar="PATH")
    apply.add_argument("--wait", action="store_true", help="wait until the applied services are steady")
    apply.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    apply.add_argument(
        "--dry-run",
        nargs="?",
        const="server",
        default="none",
        choices=("none", "server", "client"),
        help="server: say what apply would do, change nothing; client: validate only",
    )
    apply.add_argument("--endpoint", default=None)
    _data_dir_option(apply)
    diff = commands.add_parser("diff", help="show what 'apply -f' would change (exit 1 when it would)")
    diff.add_argument("-f", "--filename", action="append", required=True, metavar="PATH")
    _client_options(diff)

    get = commands.add_parser(
        "get", help="list objects: clusters, taskdefs (td), tasks, services (svc), instances (ci)"
    )
    get.add_argument("kind", type=resource, metavar="KIND[/NAME]", help="singular, plural or short name")
    get.add_argument("name", nargs="?", default=None, help="one object (a task by id, ARN or unique prefix)")
    get.add_argument("-o", "--output", choices=("table", "wide", "json", "yaml"), default="table")
    get.add_argument(
        "-w", "--watch", action="store_true", help="after the list, print each change until Ctrl-C"
    )
    _client_options(get)

    _add_object_commands(commands)

    token = commands.add_parser("token", help="registration tokens for new agents")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a registration token (printed once)")
    create.add_argument("--ttl", type=float, default=3600.0, metavar="SECONDS")
    create.add_argument("--uses", type=int, default=1)
    create.add_argument("--endpoint", default=None, help="the controller (also MINECS_ENDPOINT)")
    _data_dir_option(create)


def _add_object_commands(commands: Any) -> None:
    """describe, run-task, stop-task, scale, delete, logs, exec and events."""
    describe = commands.add_parser("describe", help="show one object in full (a service with its events)")
    describe.add_argument("kind", type=resource, metavar="KIND[/NAME]", help="singular, plural or short name")
    describe.add_argument(
        "name",
        nargs="?",
        default=None,
        help="name, id, ARN or unique task id prefix (a taskdef as family[:revision])",
    )
    _client_options(describe)

    run = commands.add_parser("run-task", help="run tasks of a task definition (RunTask)")
    run.add_argument("taskdef", help="family, family:revision or ARN")
    run.add_argument("--count", type=int, default=1)
    run.add_argument("--started-by", default=None)
    run.add_argument("--group", default=None)
    run.add_argument(
        "--enable-execute-command", action="store_true", help="allow 'minecs exec' into its containers"
    )
    run.add_argument(
        "--cpu", default=None, help="task-level cpu override (units or vCPU, e.g. 512 or '0.5 vCPU')"
    )
    run.add_argument("--memory", default=None, help="task-level memory override (MiB or e.g. '1 GB')")
    run.add_argument(
        "--instance",
        action="append",
        default=[],
        metavar="ID",
        help="StartTask: one task on each (repeatable)",
    )
    run.add_argument("--wait", action="store_true", help="wait until the tasks are RUNNING")
    run.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    run.add_argument("-o", "--output", choices=("table", "wide", "json", "yaml"), default="table")
    _client_options(run)

    stop = commands.add_parser("stop-task", help="stop a task (StopTask)")
    stop.add_argument("task", help="task id, ARN or unique id prefix")
    stop.add_argument("--reason", default=None)
    _client_options(stop)

    scale = commands.add_parser("scale", help="set a service's desiredCount")
    scale.add_argument("service")
    scale.add_argument("count", type=int)
    _client_options(scale)

    delete = commands.add_parser("delete", help="delete a service, deregister a taskdef, delete a cluster")
    delete.add_argument(
        "kind", nargs="?", type=resource, metavar="KIND[/NAME]", help="cluster, taskdef or service"
    )
    delete.add_argument("name", nargs="?")
    delete.add_argument(
        "-f", "--filename", action="append", metavar="PATH", help="delete what manifests name"
    )
    delete.add_argument("--force", action="store_true", help="delete a service still scaled above 0")
    _client_options(delete)

    logs = commands.add_parser("logs", help="a task's or a service's output, through their agents")
    logs.add_argument(
        "task", help="task id, ARN or unique id prefix, or service/NAME (every task of it, prefixed)"
    )
    logs.add_argument("-c", "--container", default=None, help="default: the only (essential) one")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("--tail", type=int, default=None, metavar="LINES")
    _client_options(logs)

    execute = commands.add_parser(
        "exec",
        help="run a command in a task's container, through its agent (ECS Exec)",
        description="Run CMD in a container of a RUNNING task launched with enableExecuteCommand. "
        "A terminal is allocated when stdin and stdout are terminals; the exit status is CMD's.",
    )
    execute.add_argument("task", help="task id, ARN or unique id prefix")
    execute.add_argument("-c", "--container", default=None, help="needed when the task has several")
    execute.add_argument(
        "-t",
        "--tty",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allocate a terminal (default: when stdin and stdout are terminals)",
    )
    execute.add_argument("argv", nargs="*", metavar="command", help="CMD [ARG...], after TASK (or after --)")
    _client_options(execute)

    events = commands.add_parser("events", help="service and task events, newest last")
    events.add_argument("service", nargs="?", default=None)
    events.add_argument("--limit", type=int, default=50)
    events.add_argument("-f", "--follow", action="store_true", help="keep printing new events until Ctrl-C")
    _client_options(events)


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=None, help="the controller (also MINECS_ENDPOINT)")
    parser.add_argument("--cluster", default=None, help="cluster name (default: default)")
    _data_dir_option(parser)


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, help="state directory (also MINECS_DATA_DIR)")
