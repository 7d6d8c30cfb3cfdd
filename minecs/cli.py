"""The ``minecs`` command: one entry point, a subcommand per job.

Parsing lives here; each subcommand's work lives in its own module and is imported when the
subcommand runs, so ``minecs --version`` stays instant. Exit codes: 0 success, 1 the job failed
(the reason is printed on stderr), 2 bad usage (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from minecs import logs, settings
from minecs.errors import MinecsError


def package_version() -> str:
    try:
        return version("minecs")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minecs", description="Amazon ECS semantics for your own boxes.")
    parser.add_argument("--version", action="version", version=f"minecs {package_version()}")
    parser.add_argument("--config", type=Path, help="settings file (YAML); also MINECS_CONFIG")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    smoke = commands.add_parser(
        "smoke",
        help="run one web container from the offline image and keep it up until Ctrl-C",
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = settings.load(args.config)
        logs.configure(config.log.level, config.log.format)  # type: ignore[arg-type]
        if args.command == "smoke":
            return asyncio.run(_smoke(args, config))
    except MinecsError as exc:
        print(f"minecs: {exc.message}", file=sys.stderr)
        return 1
    return 2


async def _smoke(args: argparse.Namespace, config: settings.Settings) -> int:
    from agent.driver import DockerDriver
    from agent.smoke import SMOKE_IMAGE, SmokeOptions, run_smoke
    from minecs.aiotasks import any_failed, install_stop_signals, run_roots

    options = SmokeOptions(
        image=args.image or SMOKE_IMAGE,
        publish_address=args.publish_address,
        host_port=args.port,
        labels=dict(_key_value(item) for item in args.label),
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


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise MinecsError(f"--label {item!r}: expected KEY=VALUE")
    return key, value


if __name__ == "__main__":
    sys.exit(main())
