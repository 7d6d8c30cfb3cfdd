"""The ``minecs`` command: one entry point, a subcommand per job.

Parsing lives here; each subcommand's work lives in its own module in this package and is imported
when the subcommand runs, so ``minecs --version`` stays instant. Exit codes: 0 success, 1 the job
failed or the input is invalid (the reasons are printed on stderr), 2 bad usage (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from minecs import settings
from minecs.cli import down, rollout
from minecs.cli.hints import Parser
from minecs.cli.parsers import add_client_commands
from minecs.errors import MinecsError
from minecs.logs import configure as configure_logging  # 'logs' here is minecs.cli.logs, the command


def package_version() -> str:
    try:
        return version("minecs")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="minecs", description="Amazon ECS semantics for your own boxes.")
    parser.add_argument("--version", action="version", version=f"minecs {package_version()}")
    parser.add_argument("--config", type=Path, help="settings file (YAML); also MINECS_CONFIG")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check task definitions, services and clusters against the ECS rules",
        description="Check ECS task definition JSON (register or describe form) and minecs manifests.",
    )
    validate.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="a file, a directory of .yaml/.yml/.json files, or - for stdin (repeatable)",
    )
    validate.add_argument("-o", "--output", choices=("summary", "json"), default="summary")

    _add_daemon_commands(commands)
    add_client_commands(commands)
    for module in (rollout, down):  # each adds its parsers, with set_defaults(handler=...)
        module.add_parsers(commands)

    static = commands.add_parser(
        "agent-static",
        help="run the agent on task files from a directory, without a controller (like static pods)",
    )
    static.add_argument(
        "--tasks", type=Path, required=True, metavar="DIR", help="directory of task JSON files"
    )
    static.add_argument("--data-dir", type=Path, required=True, help="where the agent keeps its state")
    static.add_argument("--instance-id", default="static")
    static.add_argument("--publish-address", default=None, help="address task ports are published on")
    static.add_argument(
        "--pull-behavior", default=None, choices=("default", "always", "once", "prefer-cached")
    )
    static.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="extra label on every container"
    )
    _log_format_option(static)

    completion = commands.add_parser("completion", help="print a shell completion script (bash)")
    completion.add_argument("shell", choices=("bash",))

    smoke = commands.add_parser(
        "smoke", help="run one web container from the offline image and keep it up until Ctrl-C"
    )
    smoke.add_argument("--publish-address", default="127.0.0.1")
    smoke.add_argument("--port", type=int, default=0, help="host port (0: any free port)")
    smoke.add_argument("--image", default=None, help="image (default minecs/busybox:latest)")
    smoke.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="extra container label"
    )
    smoke.add_argument(
        "--exit-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop by itself this long after the page answered (default: run until Ctrl-C)",
    )
    return parser


def _add_daemon_commands(commands: Any) -> None:
    """up, controller and agent: the daemons."""
    up = commands.add_parser("up", help="run a controller and an agent on this host, in one process")
    _daemon_options(up)
    _controller_options(up)
    up.add_argument("--port", type=int, default=7450)
    up.add_argument("--publish-address", default=None, help="address task ports are published on")
    _agent_port_options(up)
    up.add_argument("--pull-behavior", default=None, choices=("default", "always", "once", "prefer-cached"))
    up.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="extra label on every container"
    )

    up.add_argument(
        "--apply",
        action="append",
        default=[],
        metavar="PATH",
        help="manifests to apply once the agent is up, over what exists (as 'minecs apply')",
    )
    up.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="PATH",
        help="manifests to create once the agent is up, skipping every object that exists (make up's demo)",
    )

    controller = commands.add_parser("controller", help="run the controller daemon")
    _daemon_options(controller)
    _controller_options(controller)
    controller.add_argument("--listen", default="127.0.0.1")
    controller.add_argument("--port", type=int, default=7450)

    agent = commands.add_parser("agent", help="run the agent daemon, registered with a controller")
    _daemon_options(agent)
    agent.add_argument(
        "--endpoint", default="http://127.0.0.1:7450", help="the controller (also MINECS_ENDPOINT)"
    )
    agent.add_argument(
        "--token", default=None, help="registration token for the first start ('minecs token create')"
    )
    agent.add_argument("--cluster", default="default")
    agent.add_argument("--publish-address", default=None)
    _agent_port_options(agent)
    agent.add_argument(
        "--pull-behavior", default=None, choices=("default", "always", "once", "prefer-cached")
    )
    agent.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")


def _agent_port_options(parser: argparse.ArgumentParser) -> None:
    """The agent's three servers: each port unset is ECS's, or a free one while another agent holds
    it; a port given that is taken stops the agent (0: any free port)."""
    for name, default, what in (
        ("metadata", 51679, "the task metadata endpoint containers are told about"),
        ("introspection", 51678, "the introspection API on 127.0.0.1"),
        ("metrics", 51680, "Prometheus /metrics"),
    ):
        parser.add_argument(
            f"--{name}-port",
            type=int,
            default=None,
            metavar="PORT",
            help=f"{what} (default {default}, or a free port while taken; 0: any free port)",
        )
    parser.add_argument(
        "--metrics-address",
        default=None,
        metavar="ADDRESS",
        help="the address /metrics listens on (default 127.0.0.1)",
    )


def _controller_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agent-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="an agent silent this long shows disconnected (default 60; also MINECS_CONTROLLER_AGENT_TIMEOUT)",
    )


def _daemon_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None, help="state directory (also MINECS_DATA_DIR)")
    _log_format_option(parser)


def _log_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        default=None,
        choices=("auto", "json", "console"),
        help="auto: human lines on a terminal, JSON lines otherwise (default; also MINECS_LOG_FORMAT)",
    )


def _validate(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.validate import run_validate

    return run_validate(args.filename, args.output, sys.stdin, sys.stdout, sys.stderr)


def _token(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.client import create_token

    return asyncio.run(create_token(args, config))


def _apply(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.client import apply_files

    return asyncio.run(apply_files(args, config))


def _diff(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.diff import diff_files

    return asyncio.run(diff_files(args, config))


def _objects(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli import execute, objects
    from minecs.cli.logs import task_logs

    command = {
        "get": objects.get_objects,
        "describe": objects.describe_object,
        "run-task": objects.run_task,
        "stop-task": objects.stop_task,
        "scale": objects.scale_service,
        "delete": objects.delete_objects,
        "logs": task_logs,
        "exec": execute.exec_command,
        "events": objects.service_events,
    }[args.command]
    try:
        return asyncio.run(command(args, config))
    except KeyboardInterrupt:  # Ctrl-C ends 'logs -f' and the waits; nothing is left half done
        return 130


def _daemon(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.daemons import run_daemon

    return asyncio.run(run_daemon(args, config))


def _static(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.daemons import run_static_command

    return asyncio.run(run_static_command(args, config))


def _completion(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.completion import bash

    print(bash(build_parser()), end="")
    return 0


def _smoke(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.cli.smoke import run_smoke_command

    return asyncio.run(run_smoke_command(args, config))


COMMANDS: dict[str, Callable[[argparse.Namespace, settings.Settings], int]] = {
    "validate": _validate,
    "token": _token,
    "apply": _apply,
    "diff": _diff,
    "get": _objects,
    "describe": _objects,
    "run-task": _objects,
    "stop-task": _objects,
    "scale": _objects,
    "delete": _objects,
    "logs": _objects,
    "exec": _objects,
    "events": _objects,
    "up": _daemon,
    "controller": _daemon,
    "agent": _daemon,
    "agent-static": _static,
    "smoke": _smoke,
    "completion": _completion,
}


def _with_log_format(args: argparse.Namespace, config: settings.Settings) -> settings.Settings:
    """The daemons' ``--log-format`` over ``log.format``: applied here, not in ``daemons.with_flags``
    with the other flags, because logging is configured before any command runs."""
    if getattr(args, "log_format", None) is None:
        return config
    return replace(config, log=replace(config.log, format=args.log_format))


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    command = None
    if "exec" in words or "--" in words:  # exec's command is never read as options (see split_command)
        from minecs.cli.execute import split_command

        words, command = split_command(words)
        if command is None and "--" in words:
            parser.error("'--' comes only before the command of 'minecs exec'")
    args = parser.parse_args(words)
    if command is not None:
        args.argv = command
    try:
        config = _with_log_format(args, settings.load(args.config))
        configure_logging(config.log.level, config.log.format)  # type: ignore[arg-type]
        return (getattr(args, "handler", None) or COMMANDS[args.command])(args, config)
    except MinecsError as exc:
        print(f"minecs: {exc.message}", file=sys.stderr)
        return 1
