"""``minecs up``, ``minecs controller`` and ``minecs agent``: settings in, a daemon until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os

from agent.daemon import AgentSettings, run_agent
from agent.tasks.engine import PullBehavior
from minecs import settings
from minecs.aiotasks import install_stop_signals
from minecs.cli.client import endpoint_of
from minecs.cli.smoke import key_value
from minecs.controller import ControllerSettings, serve
from minecs.up import run_up


def _agent_settings(
    args: argparse.Namespace, config: settings.Settings, data_dir: os.PathLike[str]
) -> AgentSettings:
    from pathlib import Path

    return AgentSettings(
        endpoint=endpoint_of(args),
        data_dir=Path(data_dir),
        cluster=getattr(args, "cluster", "default"),
        token=getattr(args, "token", None),
        publish_address=args.publish_address or config.docker.publish_address,
        pull_behavior=PullBehavior(args.pull_behavior),
        labels=dict(key_value(item) for item in args.label),
        docker_host=config.docker.host or None,
        metrics_port=config.agent.metrics_port if args.metrics_port is None else args.metrics_port,
    )


def _tuning(args: argparse.Namespace, config: settings.Settings) -> settings.ControllerTuning:
    if args.agent_timeout is None:
        return config.controller
    return dataclasses.replace(config.controller, agent_timeout=args.agent_timeout)


async def run_daemon(args: argparse.Namespace, config: settings.Settings) -> int:
    data_dir = args.data_dir or config.data_dir
    stop = asyncio.Event()
    uninstall = install_stop_signals(stop)
    try:
        if args.command == "controller":
            await serve(
                ControllerSettings(
                    data_dir=data_dir,
                    listen=args.listen,
                    port=args.port,
                    region=config.region,
                    account_id=config.account_id,
                    tuning=_tuning(args, config),
                ),
                stop,
            )
            return 0
        if args.command == "agent":
            await run_agent(_agent_settings(args, config, data_dir), stop)
            return 0
        controller = ControllerSettings(
            data_dir=data_dir,
            port=args.port,
            region=config.region,
            account_id=config.account_id,
            tuning=_tuning(args, config),
        )
        ok = await run_up(controller, _agent_settings(args, config, data_dir / "agent"), stop, args.apply)
        return 0 if ok else 1
    finally:
        uninstall()
