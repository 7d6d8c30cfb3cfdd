"""``minecs up``, ``minecs controller``, ``minecs agent`` and ``minecs agent-static``: settings in,
a daemon until SIGTERM.

Each daemon is handed its section of the settings tree as it is; the flags that override a setting
(``--agent-timeout``, ``--publish-address``, ``--pull-behavior``, the agent's ``--metadata-port``,
``--introspection-port``, ``--metrics-port`` and ``--metrics-address``) are applied to the tree
here, in ``with_flags``, and nowhere else (``--log-format`` alone in ``minecs.cli.main``, which
configures logging before any command). What is not a setting (the listen address and port, the
controller URL, the token, the cluster, labels, the data dir's paths) goes as arguments.

Each daemon holds its data dir's lock (``minecs.datadir.lock``) while it runs, so a second one on the
same directory stops at once with one line; ``minecs up`` holds its own and its agent's directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from agent.daemon import AgentStart, run_agent
from agent.provision.resources import InstanceFacts
from minecs import settings
from minecs.aiotasks import install_stop_signals
from minecs.cli.client import endpoint_of
from minecs.cli.smoke import key_value
from minecs.controller import Address, serve
from minecs.datadir import lock
from minecs.settings import PullBehavior
from minecs.up import Manifests, run_up


def with_flags(args: argparse.Namespace, config: settings.Settings) -> settings.Settings:
    """``config`` with the command line's overrides of settings applied (a flag not given keeps it)."""
    controller, agent, docker = config.controller, config.agent, config.docker
    if getattr(args, "agent_timeout", None) is not None:
        controller = replace(controller, agent_timeout=args.agent_timeout)
    for port in ("metadata_port", "introspection_port", "metrics_port", "metrics_address"):
        if getattr(args, port, None) is not None:
            agent = replace(agent, **{port: getattr(args, port)})
    if getattr(args, "pull_behavior", None) is not None:
        agent = replace(agent, engine=replace(agent.engine, pull_behavior=PullBehavior(args.pull_behavior)))
    if getattr(args, "publish_address", None):
        docker = replace(docker, publish_address=args.publish_address)
    data_dir = getattr(args, "data_dir", None) or config.data_dir
    return replace(config, data_dir=data_dir, controller=controller, agent=agent, docker=docker)


def _agent_start(args: argparse.Namespace, data_dir: Path) -> AgentStart:
    return AgentStart(
        endpoint=endpoint_of(args),
        data_dir=data_dir,
        cluster=getattr(args, "cluster", "default"),
        token=getattr(args, "token", None),
        labels=dict(key_value(item) for item in args.label),
    )


@contextlib.contextmanager
def _locked(*data_dirs: Path, command: str) -> Iterator[None]:
    """Each of ``data_dirs`` locked for this process while the block runs (``minecs.datadir.lock``)."""
    with contextlib.ExitStack() as held:
        for data_dir in data_dirs:
            held.enter_context(lock(data_dir, f"minecs {command}"))
        yield


async def run_daemon(args: argparse.Namespace, config: settings.Settings) -> int:
    config = with_flags(args, config)
    own = (config.data_dir, config.data_dir / "agent") if args.command == "up" else (config.data_dir,)
    with _locked(*own, command=args.command):
        return await _run_daemon(args, config)


async def _run_daemon(args: argparse.Namespace, config: settings.Settings) -> int:
    stop = asyncio.Event()
    uninstall = install_stop_signals(stop)
    try:
        if args.command == "controller":
            await serve(config, Address(args.listen, args.port), stop)
            return 0
        if args.command == "agent":
            await run_agent(config.agent, config.docker, _agent_start(args, config.data_dir), stop)
            return 0
        agent = _agent_start(args, config.data_dir / "agent")
        manifests = Manifests(apply=tuple(args.apply), seed=tuple(args.seed))
        ok = await run_up(config, Address(port=args.port), agent, stop, manifests)
        return 0 if ok else 1
    finally:
        uninstall()


async def run_static_command(args: argparse.Namespace, config: settings.Settings) -> int:
    from agent.static import run_static

    config = with_flags(args, config)
    labels = dict(key_value(item) for item in args.label)
    facts = InstanceFacts(args.instance_id, config.docker.publish_address, labels)
    stop = asyncio.Event()
    uninstall = install_stop_signals(stop)
    try:
        with _locked(args.data_dir, command="agent-static"):
            await run_static(
                config.agent.engine, facts, args.data_dir, args.tasks, stop, rescan=config.agent.static_rescan
            )
    finally:
        uninstall()
    return 0
