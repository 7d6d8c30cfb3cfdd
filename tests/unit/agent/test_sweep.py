"""``minecs down``'s cleanup (agent.tasks.sweep): what an exited agent left is removed at once, from its state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.runtime.fake import FakeDriver
from agent.tasks.sweep import sweep
from tests.snapshots import is_running
from tests.unit.agent.test_state import IMAGE, engine_on, task

VOLUMES: dict[str, Any] = {
    "volumes": [
        {"name": "cache"},
        {"name": "shared", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True}},
    ]
}


async def _left_running(fake: FakeDriver, state: Path) -> None:
    """An agent that ran a task with a task volume and a shared one, then exited (its task still runs)."""
    engine = engine_on(fake, state)
    t = task(**VOLUMES)
    async with engine.running():
        engine.apply(t)
        await engine.wait_for(t.task_arn, is_running, within=5)


async def test_the_containers_and_task_volumes_go_and_the_shared_volume_stays(tmp_path: Path) -> None:
    fake = FakeDriver(images={IMAGE})
    state = tmp_path / "agent-state.json"
    await _left_running(fake, state)
    made = await fake.find({"minecs.instance-id": "i-1"})
    assert len(made) >= 2  # app and side (and a pause container where the mode needs one)
    assert "shared" in fake.volumes
    assert len(fake.volumes) == 2

    swept = await sweep(fake, tmp_path)

    assert (swept.tasks, swept.containers, swept.volumes, swept.left) == (1, len(made), 1, ())
    assert await fake.find({"minecs.instance-id": "i-1"}) == []
    assert list(fake.volumes) == ["shared"]
    assert json.loads(state.read_text())["tasks"] == []  # the agent's next start knows no task


async def test_a_container_the_state_does_not_name_is_found_by_its_label(tmp_path: Path) -> None:
    fake = FakeDriver(images={IMAGE})
    state = tmp_path / "agent-state.json"
    await _left_running(fake, state)
    saved = json.loads(state.read_text())
    for record in saved["tasks"][0]["containers"].values():
        record["runtimeId"] = None  # as a create in flight when the agent was killed
    state.write_text(json.dumps(saved))

    swept = await sweep(fake, tmp_path)

    assert swept.left == ()
    assert await fake.find({"minecs.instance-id": "i-1"}) == []


async def test_no_state_is_nothing_to_sweep(tmp_path: Path) -> None:
    swept = await sweep(FakeDriver(), tmp_path)
    assert (swept.tasks, swept.containers, swept.volumes, swept.left) == (0, 0, 0, ())
    assert not (tmp_path / "agent-state.json").exists()
