"""The smoke run behind ``make up`` until the controller and agent exist: one web container, end to end.

It proves the whole chain on this host through the same ``Driver`` the agent uses: the offline
image runs busybox ``httpd``, its port is published on the chosen address, Docker's health check turns
``healthy`` (seen on the event stream, not by polling), and an HTTP request answers. Then it stays in
the foreground until SIGINT/SIGTERM (or ``exit_after``) and removes the container on the way out,
whatever happened.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from agent.runtime.base import ContainerEvent, ContainerSpec, Driver, Health, HealthConfig, PortBinding
from minecs.aiotasks import sleep_or_wake
from minecs.errors import DriverError, ImageNotFoundError
from minecs.logs import get_logger

log = get_logger(__name__)

SMOKE_IMAGE = "minecs/busybox:latest"
CONTAINER_PORT = 8080
HEALTHY_WITHIN_S = 60.0
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class SmokeOptions:
    image: str = SMOKE_IMAGE
    publish_address: str = "127.0.0.1"
    host_port: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    hold_for: float | None = None
    """Seconds to keep the container up after it answered; None holds until ``stop``."""


@dataclass(frozen=True)
class SmokeResult:
    container_id: str
    url: str
    body: str


def smoke_spec(options: SmokeOptions) -> ContainerSpec:
    """The container: httpd in the foreground, a health check that fetches the page from inside."""
    return ContainerSpec(
        name=f"minecs-smoke-{secrets.token_hex(4)}",
        image=options.image,
        command=("httpd", "-f", "-p", str(CONTAINER_PORT), "-h", "/var/www"),
        labels={"minecs.smoke": "1", **options.labels},
        ports=(PortBinding(CONTAINER_PORT, host_port=options.host_port, host_ip=options.publish_address),),
        health=HealthConfig(
            test=("CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{CONTAINER_PORT}/ || exit 1"),
            interval=1.0,
            timeout=2.0,
            retries=3,
        ),
    )


async def run_smoke(driver: Driver, options: SmokeOptions, stop: asyncio.Event) -> SmokeResult:
    """Start the container, wait for healthy, fetch the page, then hold until ``stop`` is set."""
    if not await driver.image_present(options.image):
        raise ImageNotFoundError(
            f"image {options.image} is not cached; build it offline with scripts/ensure-images"
        )
    spec = smoke_spec(options)
    container_id = ""
    try:
        async with driver.subscribe({"minecs.smoke": "1"}) as events:
            container_id = await driver.create(spec)
            await driver.start(container_id)
            await asyncio.wait_for(_healthy(container_id, events), HEALTHY_WITHIN_S)
        info = await driver.inspect(container_id)
        port = next(p.host_port for p in info.ports if p.container_port == CONTAINER_PORT)
        url = f"http://{options.publish_address}:{port}/"
        body = await asyncio.to_thread(_fetch, url)
        log.info("smoke container healthy", container=spec.name, url=url)
        print(f"minecs smoke run: {url} answers from container {spec.name} (healthy).", flush=True)
        print("Press Ctrl-C to stop; the container is removed on exit.", flush=True)
        await sleep_or_wake(options.hold_for if options.hold_for is not None else math.inf, stop)
        return SmokeResult(container_id, url, body)
    finally:
        if container_id:
            await _remove_quietly(driver, container_id)


async def _healthy(container_id: str, events: AsyncIterator[ContainerEvent]) -> None:
    async for event in events:
        if event.container_id != container_id:
            continue
        if event.action == "die":
            raise DriverError(f"smoke container exited with code {event.exit_code}")
        if event.health is Health.HEALTHY:
            return
    raise DriverError("event stream ended before the smoke container turned healthy")


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
        return str(response.read().decode())


async def _remove_quietly(driver: Driver, container_id: str) -> None:
    try:
        await driver.stop(container_id, STOP_GRACE_S)
        await driver.remove(container_id, force=True)
        log.info("smoke container removed", container_id=container_id[:12])
    except DriverError as exc:
        log.warning("smoke container cleanup failed", container_id=container_id[:12], error=str(exc))
