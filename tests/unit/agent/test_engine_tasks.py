"""The engine's background tasks run under ``minecs.aiotasks.guard``: a failure is logged with its name."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog

from agent.provision.resources import InstanceFacts
from agent.runtime.base import Health, RunState
from agent.runtime.fake import FakeDriver
from agent.tasks.engine import Engine
from minecs.settings import EngineSettings


class BrokenListing(FakeDriver):
    """A driver whose container listing fails with an error the engine does not expect."""

    async def states(self, labels: Mapping[str, str]) -> dict[str, tuple[RunState, Health]]:
        raise RuntimeError("listing broke")


async def test_a_failing_background_task_of_the_engine_is_logged_with_its_name() -> None:
    engine = Engine(BrokenListing(), EngineSettings(resync_interval=0.01), InstanceFacts(instance_id="i-1"))
    with structlog.testing.capture_logs() as logged:
        async with engine.running():
            for _ in range(200):
                if any(e["event"] == "root failed" for e in logged):
                    break
                await asyncio.sleep(0.01)
    failed = [e for e in logged if e["event"] == "root failed"]
    assert [e["root"] for e in failed] == ["engine resync"]
    assert failed[0]["log_level"] == "error"
