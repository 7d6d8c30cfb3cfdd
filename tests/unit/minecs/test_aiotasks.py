"""Supervised roots: the first to exit stops the rest, failures are logged, deadlines hold."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError

import pytest
from structlog.testing import capture_logs

from minecs.aiotasks import (
    DaemonThreads,
    Ending,
    any_failed,
    install_stop_signals,
    run_roots,
    sleep_or_wake,
    spawn,
)


async def test_a_root_that_exits_stops_the_cooperative_others() -> None:
    stop = asyncio.Event()

    async def one_shot() -> None:
        return None

    async def loop_until_stop() -> None:
        await stop.wait()

    outcomes = await run_roots({"one-shot": one_shot, "loop": loop_until_stop}, stop, graceful=5)
    assert {o.name: o.ending for o in outcomes} == {"one-shot": Ending.FINISHED, "loop": Ending.FINISHED}
    assert stop.is_set()
    assert not any_failed(outcomes)


async def test_a_crashing_root_is_logged_and_marks_the_run_failed() -> None:
    stop = asyncio.Event()

    async def crash() -> None:
        raise RuntimeError("boom")

    async def loop_until_stop() -> None:
        await stop.wait()

    with capture_logs() as logged:
        outcomes = await run_roots({"crash": crash, "loop": loop_until_stop}, stop)
    by_name = {o.name: o for o in outcomes}
    assert by_name["crash"].ending is Ending.FAILED
    assert isinstance(by_name["crash"].error, RuntimeError)
    assert any_failed(outcomes)
    failed = [e for e in logged if e["event"] == "root failed"]
    assert len(failed) == 1
    assert (failed[0]["root"], failed[0]["log_level"], failed[0]["exc_info"]) == ("crash", "error", True)


async def test_uncooperative_roots_are_cancelled_after_the_grace_period() -> None:
    stop = asyncio.Event()
    stop.set()

    async def ignores_stop() -> None:
        await asyncio.sleep(3600)

    outcomes = await run_roots({"deaf": ignores_stop}, stop, graceful=0.05, hard=1)
    assert outcomes[0].ending is Ending.CANCELLED
    assert not any_failed(outcomes)


async def test_a_slow_stop_says_what_it_waits_for_until_it_ends() -> None:
    stop = asyncio.Event()
    stop.set()

    async def slow() -> None:
        await asyncio.sleep(0.25)

    async def quick() -> None:
        return None

    with capture_logs() as logs:
        roots = {"slow": slow, "quick": quick, "deaf": lambda: asyncio.sleep(3600)}
        await run_roots(roots, stop, graceful=0.5, hard=1, progress_every=0.1)
    said = [(e["event"], e.get("waiting_for")) for e in logs if "stopping" in e["event"]]
    assert said[0] == ("stopping", ["deaf", "slow"])  # quick ended first, which began the stop
    assert ("still stopping", ["deaf"]) in said  # slow has ended by then, deaf never does


async def test_a_root_that_survives_cancellation_is_abandoned_after_the_hard_deadline() -> None:
    stop = asyncio.Event()
    stop.set()
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    with capture_logs() as logged:
        outcomes = await run_roots({"stubborn": stubborn}, stop, graceful=0.01, hard=0.05)
    assert outcomes[0].ending is Ending.ABANDONED
    assert any_failed(outcomes)
    assert any(e["event"] == "root abandoned after hard deadline" for e in logged)
    release.set()
    for task in asyncio.all_tasks():
        if task.get_name() == "stubborn":
            task.cancel()
            await asyncio.wait([task])


async def test_sleep_or_wake_returns_early_on_an_event_and_false_on_timeout() -> None:
    wake = asyncio.Event()
    assert await sleep_or_wake(0.01, wake) is False
    asyncio.get_running_loop().call_later(0.01, wake.set)
    assert await asyncio.wait_for(sleep_or_wake(3600, wake), 5) is True
    assert await sleep_or_wake(3600, wake) is True


async def test_sigterm_sets_the_stop_event() -> None:
    stop = asyncio.Event()
    uninstall = install_stop_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 5)
    finally:
        uninstall()
    assert stop.is_set()


async def test_daemon_threads_run_calls_in_parallel_up_to_their_number() -> None:
    pool = DaemonThreads(3, "test")
    loop = asyncio.get_running_loop()
    gate, inside = threading.Event(), threading.Semaphore(0)

    def wait_at_the_gate() -> str:
        inside.release()
        gate.wait(10)
        return threading.current_thread().name

    calls = [loop.run_in_executor(pool, wait_at_the_gate) for _ in range(5)]
    for _ in range(3):
        assert await asyncio.to_thread(inside.acquire, True, 10)
    assert not inside.acquire(timeout=0.2)  # the 4th and 5th wait for a free thread
    gate.set()
    names = await asyncio.gather(*calls)
    assert len(set(names)) == 3
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("test-"))
    pool.shutdown(wait=True)


async def test_daemon_threads_pass_errors_on_and_cancel_what_never_started_at_shutdown() -> None:
    pool = DaemonThreads(1, "test-errors")
    loop = asyncio.get_running_loop()

    def fail() -> None:
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        await loop.run_in_executor(pool, fail)
    gate, started = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return gate.wait(10)

    running = pool.submit(hold)
    assert started.wait(10)
    queued = pool.submit(time.sleep, 0)
    pool.shutdown()
    assert queued.cancelled()
    with pytest.raises(CancelledError):
        queued.result()
    gate.set()
    assert running.result(timeout=10) is True
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(time.sleep, 0)


def test_a_call_still_blocking_in_daemon_threads_does_not_hold_the_process_at_exit() -> None:
    """The agent's Docker stop calls wait up to a container's stop timeout: exit must not wait."""
    script = (
        "import time\n"
        "from minecs.aiotasks import DaemonThreads\n"
        "pool = DaemonThreads(2, 'blocked')\n"
        "pool.submit(time.sleep, 60)\n"
        "time.sleep(0.2)\n"
        "pool.shutdown()\n"
        "print('exiting', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout) == (0, "exiting\n")


async def test_a_spawned_task_that_fails_is_logged_with_its_name_and_its_awaiter_gets_the_error() -> None:
    async def broken() -> None:
        raise RuntimeError("pump broke")

    with capture_logs() as logs:
        task = spawn("exec caller→agent", broken())
        with pytest.raises(RuntimeError, match="pump broke"):
            await task
        await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
    assert [(e["event"], e["task"]) for e in logs] == [("task failed", "exec caller→agent")]


async def test_a_spawned_task_that_ends_well_or_is_cancelled_logs_nothing() -> None:
    with capture_logs() as logs:
        assert await spawn("fine", asyncio.sleep(0, result=7)) == 7
        sleeping = spawn("cancelled", asyncio.sleep(60))
        await asyncio.sleep(0)
        sleeping.cancel()
        await asyncio.gather(sleeping, return_exceptions=True)
        await asyncio.sleep(0)
    assert logs == []
