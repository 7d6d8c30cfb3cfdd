"""The reconcile loop: desired state in the store versus what agents report, turned into actions.

Each pass reconciles every service (``Services.reconcile``: rolling deployments toward desiredCount,
replacements), places tasks that are waiting for capacity, and forgets tasks stopped long ago; it
runs on a timer and whenever something wakes it. It is level-triggered from stored state, so a
controller restart simply resumes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from minecs.aiotasks import sleep_or_wake
from minecs.controlplane.plane import ControlPlane
from minecs.errors import MinecsError
from minecs.logs import get_logger
from minecs.store import VersionConflictError

log = get_logger(__name__)


FORGET_EVERY = 60.0
"""Seconds between sweeps for long-STOPPED tasks (a sweep reads every task; passes come far more often)."""
COALESCE = 0.05
"""A woken pass waits this long first, so a burst of reports and writes makes one pass, not dozens."""


async def reconcile_once(
    plane: ControlPlane, *, forget: bool = True, observer: ReconcileObserver | None = None
) -> int:
    placed = 0
    keys = await plane.services.keys()
    if observer is not None:
        observer.pass_started(len(keys))
    for key in keys:
        try:
            await plane.services.reconcile(key)
        except MinecsError as exc:
            # One service's trouble (a lost compare-and-swap, a deleted task definition) must not stop
            # the others; the next pass starts again from the stored state.
            log.warning("service not reconciled this pass", service=key, error=exc.message)
    for arn in await plane.clusters.list_arns():
        placed += await plane.tasks.place_pending(arn.rsplit("/", 1)[-1])
    if placed:
        log.info("pending tasks placed", count=placed)
    if not forget:
        return placed
    try:
        forgotten = await plane.tasks.forget_stopped()
    except VersionConflictError:
        forgotten = 0  # a report raced the clean-up; the task is looked at again next pass
    if forgotten:
        log.info("stopped tasks forgotten", count=forgotten)
    return placed


class ReconcileObserver(Protocol):
    """What the loop tells the controller's metrics (``minecs.api.metrics.ControllerMetrics``)."""

    def pass_started(self, services: int) -> None: ...

    def pass_finished(self, seconds: float) -> None: ...


async def reconcile_forever(
    plane: ControlPlane,
    stop: asyncio.Event,
    wake: asyncio.Event,
    interval: float,
    observer: ReconcileObserver | None = None,
) -> None:
    swept = 0.0
    while not stop.is_set():
        wake.clear()
        began = time.monotonic()
        forget = began - swept >= FORGET_EVERY
        try:
            await reconcile_once(plane, forget=forget, observer=observer)
            swept = began if forget else swept
        except Exception:
            # A pass that fails (a store hiccup, a bug) must not take the controller down with it:
            # every pass starts again from the stored state, so the next one may well succeed.
            log.exception("reconcile pass failed")
        if observer is not None:
            observer.pass_finished(time.monotonic() - began)
        if await sleep_or_wake(interval, stop, wake):
            await asyncio.sleep(COALESCE)
