"""Supervised roots: the first to exit stops the rest, failures are logged, deadlines hold."""

from __future__ import annotations

import asyncio
import os
import signal

from structlog.testing import capture_logs

from minecs.aiotasks import (
    Ending,
    any_failed,
    install_stop_signals,
    run_roots,
    sleep_or_wake,
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
