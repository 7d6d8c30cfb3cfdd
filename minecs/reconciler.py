"""The reconcile loop: desired state in the store versus what agents report, turned into actions.

Each pass reconciles every service (``Services.reconcile``: rolling deployments toward desiredCount,
replacements), places tasks that are waiting for capacity, and forgets tasks stopped long ago; it
runs on a timer and whenever something wakes it. It is level-triggered from stored state, so a
controller restart simply resumes.

Design decision: one object that cannot be handled never blocks the others. Each service, and each
cluster's waiting tasks, is reconciled on its own; a failure is logged (the traceback once per
object and message, not every pass), counted (``minecs_reconcile_failures_total{kind}``), and, for a
service, told in its events; the pass goes on, and the next one tries that object again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from minecs.aiotasks import sleep_or_wake
from minecs.controlplane.plane import ControlPlane
from minecs.errors import MinecsError, StoreError, VersionConflictError
from minecs.logs import get_logger

log = get_logger(__name__)


FORGET_EVERY = 60.0
"""Seconds between sweeps for long-STOPPED tasks (a sweep reads every task; passes come far more often)."""
COALESCE = 0.05
"""A woken pass waits this long first, so a burst of reports and writes makes one pass, not dozens."""


class Failures:
    """Remembers what failed last for each object, so a poisoned one logs its traceback once."""

    def __init__(self, observer: ReconcileObserver | None) -> None:
        self.observer = observer
        self._last: dict[tuple[str, str], str] = {}

    def failed(self, kind: str, key: str, exc: Exception) -> str:
        message = exc.message if isinstance(exc, MinecsError) else f"{type(exc).__name__}: {exc}"
        if self.observer is not None:
            self.observer.object_failed(kind)
        if transient(exc):
            log.warning("object not reconciled this pass", kind=kind, key=key, error=message)
        elif self._last.get((kind, key)) != message:
            log.exception("object not reconciled", kind=kind, key=key, error=message)
        else:
            log.warning("object not reconciled again", kind=kind, key=key, error=message)
        self._last[(kind, key)] = message
        return message

    def succeeded(self, kind: str, key: str) -> None:
        self._last.pop((kind, key), None)


async def reconcile_once(
    plane: ControlPlane,
    *,
    forget: bool = True,
    observer: ReconcileObserver | None = None,
    failures: Failures | None = None,
) -> int:
    failures = failures or Failures(observer)
    placed = 0
    keys = await plane.services.keys()
    if observer is not None:
        observer.pass_started(len(keys))
    for key in keys:
        try:
            await plane.services.reconcile(key)
        except Exception as exc:
            message = failures.failed("service", key, exc)
            if not transient(exc):
                await _tell(plane, key, message)
        else:
            failures.succeeded("service", key)
    for arn in await plane.clusters.list_arns():
        cluster = arn.rsplit("/", 1)[-1]
        try:
            placed += await plane.tasks.place_pending(cluster, on_failure=failures.failed)
        except Exception as exc:
            failures.failed("cluster", cluster, exc)
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


def transient(exc: Exception) -> bool:
    """A store hiccup or a lost compare-and-swap: the next pass may well succeed, nothing to tell."""
    return isinstance(exc, StoreError)


async def _tell(plane: ControlPlane, key: str, message: str) -> None:
    """Say in the service's events that it could not be reconciled (best effort: it may be unreadable)."""
    try:
        await plane.services.note_failure(key, message)
    except Exception as exc:
        log.warning("service event not written", service=key, error=str(exc))


class ReconcileObserver(Protocol):
    """What the loop tells the controller's metrics (``minecs.api.metrics.ControllerMetrics``)."""

    def pass_started(self, services: int) -> None: ...

    def pass_finished(self, seconds: float) -> None: ...

    def object_failed(self, kind: str) -> None: ...


async def reconcile_forever(
    plane: ControlPlane,
    stop: asyncio.Event,
    wake: asyncio.Event,
    interval: float,
    observer: ReconcileObserver | None = None,
) -> None:
    swept = 0.0
    failures = Failures(observer)
    while not stop.is_set():
        wake.clear()
        began = time.monotonic()
        forget = began - swept >= FORGET_EVERY
        try:
            await reconcile_once(plane, forget=forget, observer=observer, failures=failures)
            swept = began if forget else swept
        except Exception:
            # A pass that fails (a store hiccup, a bug) must not take the controller down with it:
            # every pass starts again from the stored state, so the next one may well succeed.
            log.exception("reconcile pass failed")
        if observer is not None:
            observer.pass_finished(time.monotonic() - began)
        if await sleep_or_wake(interval, stop, wake):
            await asyncio.sleep(COALESCE)
