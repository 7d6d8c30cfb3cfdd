"""The reconcile loop: desired state in the store versus what agents report, turned into actions.

Each pass reconciles every service (``Services.reconcile``: rolling deployments toward desiredCount,
replacements) and then places tasks that are waiting for capacity; it runs on a timer and whenever
something wakes it. It is level-triggered from stored state, so a controller restart simply resumes.
"""

from __future__ import annotations

import asyncio

from minecs.aiotasks import sleep_or_wake
from minecs.controlplane.plane import ControlPlane
from minecs.logs import get_logger

log = get_logger(__name__)


async def reconcile_once(plane: ControlPlane) -> int:
    placed = 0
    for key in await plane.services.keys():
        await plane.services.reconcile(key)
    for arn in await plane.clusters.list_arns():
        placed += await plane.tasks.place_pending(arn.rsplit("/", 1)[-1])
    if placed:
        log.info("pending tasks placed", count=placed)
    return placed


async def reconcile_forever(
    plane: ControlPlane, stop: asyncio.Event, wake: asyncio.Event, interval: float
) -> None:
    while not stop.is_set():
        wake.clear()
        await reconcile_once(plane)
        await sleep_or_wake(interval, stop, wake)
