"""Supervised asyncio tasks: guarded roots, one shutdown orchestrator, interruptible sleeps.

Every long-lived coroutine in a minecs daemon is a *root*: started by ``run_roots`` under a guard
that logs how it ended (finished, cancelled, failed with the traceback). Nobody calls a bare
``asyncio.create_task`` whose failure nobody sees.

Shutdown has exactly one owner, ``run_roots``:

1. it waits until the ``stop`` event is set (SIGTERM/SIGINT, see ``install_stop_signals``) or any
   root exits, whichever comes first; a root that exits early (crash or not) stops the daemon, since a
   daemon missing one of its loops is broken, not degraded;
2. it sets ``stop`` so cooperative roots wind down on their own, and waits ``graceful`` seconds;
3. it cancels what is still running and waits ``hard`` seconds more;
4. anything still alive then is logged as a straggler and abandoned.

Loops sleep with ``sleep_or_wake`` so that a write (a wake-up event) or a stop ends the sleep at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from minecs.logs import get_logger

log = get_logger(__name__)

RootFactory = Callable[[], Coroutine[Any, Any, None]]


class Ending(Enum):
    """How a root task ended."""

    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class RootOutcome:
    name: str
    ending: Ending
    error: BaseException | None = None


async def guard(name: str, factory: RootFactory) -> RootOutcome:
    """Run one root coroutine and log how it ended. Never raises except on cancellation."""
    log.debug("root started", root=name)
    try:
        await factory()
    except asyncio.CancelledError:
        log.info("root cancelled", root=name)
        raise
    except Exception as exc:
        log.exception("root failed", root=name)
        return RootOutcome(name, Ending.FAILED, exc)
    log.info("root finished", root=name)
    return RootOutcome(name, Ending.FINISHED)


async def run_roots(
    roots: Mapping[str, RootFactory],
    stop: asyncio.Event,
    *,
    graceful: float = 10.0,
    hard: float = 5.0,
) -> list[RootOutcome]:
    """Run every root until ``stop`` is set or one root exits; then stop the rest (see module doc)."""
    tasks = {asyncio.create_task(guard(name, f), name=name): name for name, f in roots.items()}
    stop_waiter = asyncio.create_task(stop.wait(), name="stop-waiter")
    try:
        await asyncio.wait([*tasks, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        stop_waiter.cancel()
        if not stop_waiter.done():
            await asyncio.wait([stop_waiter])
    _, pending = await asyncio.wait(tasks, timeout=graceful)
    for task in pending:
        task.cancel()
    if pending:
        log.info("roots cancelled after grace", roots=sorted(tasks[t] for t in pending))
        _, pending = await asyncio.wait(pending, timeout=hard)
    return [_outcome(task, tasks[task], task in pending) for task in tasks]


def _outcome(task: asyncio.Task[RootOutcome], name: str, abandoned: bool) -> RootOutcome:
    if abandoned:
        log.error("root abandoned after hard deadline", root=name)
        return RootOutcome(name, Ending.ABANDONED)
    if task.cancelled():
        return RootOutcome(name, Ending.CANCELLED)
    return task.result()


async def sleep_or_wake(delay: float, *events: asyncio.Event) -> bool:
    """Sleep up to ``delay`` seconds; return True at once if any of ``events`` is (or becomes) set."""
    if any(e.is_set() for e in events):
        return True
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    return bool(done)


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set ``stop``; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)

    def on_signal(signum: int) -> None:
        log.info("stop signal received", signal=signal.Signals(signum).name)
        stop.set()

    for signum in signals:
        loop.add_signal_handler(signum, on_signal, signum)

    def uninstall() -> None:
        for signum in signals:
            loop.remove_signal_handler(signum)

    return uninstall


def any_failed(outcomes: list[RootOutcome]) -> bool:
    """True when a root crashed or had to be abandoned: the process should exit non-zero."""
    return any(o.ending in (Ending.FAILED, Ending.ABANDONED) for o in outcomes)
