"""``minecs smoke``: the foreground smoke run behind ``make up`` (``agent-static`` is in ``daemons``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from agent.runtime.docker import DockerDriver
from agent.runtime.smoke import SMOKE_IMAGE, SmokeOptions, run_smoke
from minecs import settings
from minecs.aiotasks import any_failed, install_stop_signals, run_roots
from minecs.errors import MinecsError


async def run_smoke_command(args: argparse.Namespace, config: settings.Settings) -> int:
    options = SmokeOptions(
        image=args.image or SMOKE_IMAGE,
        publish_address=args.publish_address,
        host_port=args.port,
        labels=dict(key_value(item) for item in args.label),
        hold_for=args.exit_after,
    )
    driver = await DockerDriver.connect(config.docker.host or None, workers=config.docker.workers)
    stop = asyncio.Event()
    uninstall = install_stop_signals(stop)

    async def smoke() -> None:
        await run_smoke(driver, options, stop)

    try:
        outcomes = await run_roots({"smoke": smoke}, stop)
    finally:
        uninstall()
        await driver.close()
    for outcome in outcomes:
        if outcome.error is not None:
            print(f"minecs: {outcome.name}: {outcome.error}", file=sys.stderr)
    return 1 if any_failed(outcomes) else 0


def key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise MinecsError(f"--label {item!r}: expected KEY=VALUE")
    return key, value
