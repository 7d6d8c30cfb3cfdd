"""Supervised asyncio tasks: guarded roots, one shutdown orchestrator, interruptible sleeps.

Every long-lived coroutine in a minecs daemon is a *root*: started by ``run_roots`` under a guard
that logs how it ended (finished, cancelled, failed with the traceback; a ``MinecsError`` with its
message alone, which is written for the reader). A short-lived helper task
that a caller awaits or cancels starts through ``spawn``, which logs its failure under its name.
Nobody calls a bare ``asyncio.create_task`` whose failure nobody sees.

Shutdown has exactly one owner, ``run_roots``:

1. it waits until the ``stop`` event is set (SIGTERM/SIGINT, see ``install_stop_signals``) or any
   root exits, whichever comes first; a root that exits early (crash or not) stops the daemon, since a
   daemon missing one of its loops is broken, not degraded;
2. it sets ``stop`` so cooperative roots wind down on their own, and waits ``graceful`` seconds;
3. it cancels what is still running and waits ``hard`` seconds more;
4. anything still alive then is logged as a straggler and abandoned.

Loops sleep with ``sleep_or_wake`` so that a write (a wake-up event) or a stop ends the sleep at once.

Blocking calls that may take long (the Docker SDK waits in a container's stop for its whole stop
timeout) run on a ``DaemonThreads`` pool: its threads never hold the process at exit, where a
``ThreadPoolExecutor``'s are joined, so a daemon told to stop exits in seconds, not after the
slowest container stop. A call still in flight ends with the process (Docker may not finish a stop
whose caller went away); the agent's next start converges from its saved state and finishes it.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from enum import Enum
from typing import Any, ParamSpec, TypeVar

from minecs.errors import MinecsError
from minecs.logs import get_logger

log = get_logger(__name__)

RootFactory = Callable[[], Coroutine[Any, Any, None]]
P = ParamSpec("P")
T = TypeVar("T")


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
    except MinecsError as exc:  # ours: its message says what went wrong; a traceback adds nothing
        log.error("root failed", root=name, error=exc.message)
        return RootOutcome(name, Ending.FAILED, exc)
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
    progress_every: float = 3.0,
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
    pending = await _wait_saying_what(tasks, graceful, progress_every)
    for task in pending:
        task.cancel()
    if pending:
        log.info("roots cancelled after grace", roots=sorted(tasks[t] for t in pending))
        _, pending = await asyncio.wait(pending, timeout=hard)
    return [_outcome(task, tasks[task], task in pending) for task in tasks]


async def _wait_saying_what(
    tasks: Mapping[asyncio.Task[RootOutcome], str], graceful: float, every: float = 3.0
) -> set[asyncio.Task[RootOutcome]]:
    """Wait up to ``graceful`` seconds for the roots, saying which are still running every ``every``
    seconds, so a stop that takes a while is never silent; return the ones still pending."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + graceful
    pending = {t for t in tasks if not t.done()}
    if pending:
        log.info("stopping", waiting_for=sorted(tasks[t] for t in pending), grace_seconds=graceful)
    while pending and (left := deadline - loop.time()) > 0:
        _, pending = await asyncio.wait(pending, timeout=min(every, left))
        if pending and deadline - loop.time() > 0:
            log.info(
                "still stopping",
                waiting_for=sorted(tasks[t] for t in pending),
                seconds_left=round(deadline - loop.time()),
            )
    return pending


def spawn(name: str, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A short-lived helper task (one side of a relay, a terminal resize) whose failure is logged
    under ``name``. Unlike ``guard`` it logs nothing when it ends well, and its awaiter still gets
    its result or error: for work that a caller awaits or cancels, not for a daemon's roots."""
    task = asyncio.create_task(coroutine, name=name)
    task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("task failed", task=task.get_name(), exc_info=error)


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


_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreads(Executor):
    """An executor of up to ``workers`` daemon threads, started as work needs them (see module doc).

    ``shutdown`` cancels what has not started and lets the threads end after their current call;
    it never waits for them unless asked."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers, self._name = workers, name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} threads are shut down")
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            self._run(*item)
            del item  # hold nothing of a finished call while waiting for the next one
            self._idle.release()

    @staticmethod
    def _run(
        future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = True) -> None:
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()
