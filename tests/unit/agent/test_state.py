"""Persisted agent state: restore re-adopts by id, finds an in-flight create by name, never restarts."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.provision.resources import InstanceFacts
from agent.runtime.fake import FakeDriver
from agent.tasks.engine import Engine
from agent.tasks.state import PortClaim, memory_to_json
from minecs.model.registered import register
from minecs.model.task import TaskAssignment
from minecs.model.wire import assignment_from_json, assignment_to_json, snapshot_from_json, snapshot_to_json
from minecs.settings import EngineSettings, ProvisionSettings, PullBehavior
from minecs.validation import parse_task_definition
from tests.conftest import wait_until
from tests.snapshots import is_running

IMAGE = "minecs/busybox:latest"


def task(arn: str = "arn:aws:ecs:r:1:task/default/t1", **extra: Any) -> TaskAssignment:
    spec = parse_task_definition(
        {
            "family": "f",
            "containerDefinitions": [
                {"name": "app", "image": IMAGE, "memory": 16, "portMappings": [{"containerPort": 80}]},
                {"name": "side", "image": IMAGE, "memory": 16, "essential": False},
            ],
            **extra,
        }
    )
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/f:1", revision=1, registered_at=datetime.now(UTC)
    )
    return TaskAssignment(task_arn=arn, cluster="default", definition=td)


SETTINGS = EngineSettings(
    resync_interval=0.05,
    pull_behavior=PullBehavior.PREFER_CACHED,
    provision=ProvisionSettings(port_range=(46000, 46100)),
)


def engine_on(driver: FakeDriver, path: Path | None) -> Engine:
    return Engine(driver, SETTINGS, InstanceFacts("i-1", "127.0.0.1"), state_path=path)


async def test_restore_adopts_the_same_containers_and_ports(tmp_path: Path) -> None:
    fake = FakeDriver(images={IMAGE})
    path = tmp_path / "agent-state.json"
    t = task()
    first = engine_on(fake, path)
    async with first.running():
        first.apply(t)
        before = await first.wait_for(t.task_arn, is_running, within=5)
    creates = [c for c in fake.calls if c[0] == "create"]
    second = engine_on(fake, path)
    async with second.running():
        after = await second.wait_for(t.task_arn, lambda s: s.seq > before.seq and is_running(s), within=5)
        assert second.ports.owned_by(t.task_arn) == first.ports.owned_by(t.task_arn)
    assert [c for c in fake.calls if c[0] == "create"] == creates
    assert [c.runtime_id for c in after.containers] == [c.runtime_id for c in before.containers]
    assert after.container("app").network_bindings == before.container("app").network_bindings
    assert after.started_at == before.started_at


async def test_a_create_in_flight_at_a_crash_is_found_by_name(tmp_path: Path) -> None:
    fake = FakeDriver(images={IMAGE})
    path = tmp_path / "agent-state.json"
    t = task()
    first = engine_on(fake, path)
    async with first.running():
        first.apply(t)
        await first.wait_for(t.task_arn, is_running, within=5)
    saved = json.loads(path.read_text())
    app = saved["tasks"][0]["containers"]["app"]
    existing = app["runtimeId"]
    app.update(runtimeId=None, known="PULLED")  # as if the agent died between create and its answer
    path.write_text(json.dumps(saved))
    second = engine_on(fake, path)
    async with second.running():
        after = await second.wait_for(
            t.task_arn, lambda s: is_running(s) and s.container("app").runtime_id is not None, within=5
        )
    assert after.container("app").runtime_id == existing
    assert len([c for c in fake.calls if c[0] == "create"]) == 2


async def test_a_container_created_but_not_started_at_a_crash_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 (kill -9 at a random moment): the agent died between Docker's create and start; the
    container sat CREATED, the restored task stayed ACTIVATING and the service never settled."""
    fake = FakeDriver(images={IMAGE})
    path = tmp_path / "agent-state.json"
    t = task()
    real_start = fake.start
    never = asyncio.Event()

    async def start_that_never_answers(container_id: str) -> None:
        await never.wait()

    monkeypatch.setattr(fake, "start", start_that_never_answers)
    first = engine_on(fake, path)
    async with first.running():
        first.apply(t)
        await wait_until(
            lambda: asyncio.sleep(0, [c for c in fake.calls if c[0] == "create"]),
            lambda creates: len(creates) == 2,
            what="both containers created",
        )
    monkeypatch.setattr(fake, "start", real_start)
    found = await fake.find({})
    created = {info.labels["minecs.container-name"]: info.id for info in found}
    assert not any(info.running for info in found)
    second = engine_on(fake, path)
    async with second.running():
        after = await second.wait_for(t.task_arn, is_running, within=5)
    assert {c.name: c.runtime_id for c in after.containers} == created
    assert len([c for c in fake.calls if c[0] == "create"]) == 2  # started where they were, none re-made


async def test_state_of_another_instance_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "agent-state.json"
    path.write_text(json.dumps({"version": 1, "instanceId": "someone-else", "tasks": []}))
    engine = engine_on(FakeDriver(), path)
    with pytest.raises(ValueError, match="belongs to instance someone-else"):
        async with engine.running():
            pass


def test_wire_forms_round_trip() -> None:
    a = dataclasses.replace(task(), group="service:web", started_by="ecs-svc/1")
    assert assignment_from_json(json.loads(json.dumps(assignment_to_json(a)))) == a


async def test_snapshot_wire_form_round_trips() -> None:
    fake = FakeDriver(images={IMAGE})
    engine = engine_on(fake, None)
    t = task()
    async with engine.running():
        engine.apply(t)
        snapshot = await engine.wait_for(t.task_arn, is_running, within=5)
    assert snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snapshot)))) == snapshot


async def test_subscribers_see_a_change_only_once_it_is_on_disk(tmp_path: Path) -> None:
    fake = FakeDriver(images={IMAGE})
    path = tmp_path / "agent-state.json"
    engine = engine_on(fake, path)
    changes = engine.subscribe()
    t = task()
    async with engine.running():
        engine.apply(t)
        seen_count = 0
        while True:
            seen = await asyncio.wait_for(changes.get(), 5)
            seen_count += 1
            (stored,) = json.loads(path.read_text())["tasks"]
            assert stored["seq"] >= seen.seq
            if is_running(seen):
                break
    assert seen_count >= 2


async def test_concurrent_persists_share_writes_and_each_waits_for_one_that_covers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the many-agents benchmark: every create waited for its own write of every task."""
    engine = engine_on(FakeDriver(images={IMAGE}), tmp_path / "agent-state.json")
    assert engine.state is not None
    writes: list[int] = []
    real_save = engine.state.save

    async def slow_save(text: str) -> None:
        writes.append(engine._persist_asked)  # what this write covers: every request made so far
        await asyncio.sleep(0.02)
        await real_save(text)

    monkeypatch.setattr(engine.state, "save", slow_save)
    covered_when_returned: list[int] = []

    async def caller() -> None:
        await engine.persist()
        covered_when_returned.append(writes[-1])

    await asyncio.gather(*(caller() for _ in range(40)))
    assert len(writes) <= 3  # one write, then one for everyone who asked during it
    assert min(covered_when_returned) >= 1
    assert writes[-1] == 40  # the last write covered all forty requests


async def test_a_write_encodes_only_the_tasks_whose_revision_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.tasks.state

    assignments: list[str] = []
    tasks_encoded: list[str] = []

    def counting_assignment(a: TaskAssignment) -> dict[str, Any]:
        assignments.append(a.task_arn)
        return assignment_to_json(a)

    def counting_task(memory: Any, claims: list[PortClaim]) -> dict[str, Any]:
        tasks_encoded.append(memory.task_arn)
        return memory_to_json(memory, claims)

    monkeypatch.setattr(agent.tasks.state, "assignment_to_json", counting_assignment)
    monkeypatch.setattr(agent.tasks.state, "memory_to_json", counting_task)
    path = tmp_path / "agent-state.json"
    engine = engine_on(FakeDriver(images={IMAGE}), path)
    assert engine.state is not None
    tasks = [task(f"arn:aws:ecs:r:1:task/default/t{n}") for n in range(3)]
    for t in tasks:
        engine.apply(t)
    for _ in range(4):
        await engine.persist()
    assert sorted(tasks_encoded) == sorted(t.task_arn for t in tasks)  # four writes, one encoding each
    changed = engine._runners[tasks[1].task_arn].memory
    changed.stopped_reason, changed.edits = "edited", changed.edits + 1
    await engine.persist()
    assert tasks_encoded[3:] == [tasks[1].task_arn]
    saved = json.loads(path.read_text())
    assert saved["instanceId"] == "i-1"
    assert [assignment_from_json(s["assignment"]) for s in saved["tasks"]] == tasks
    assert [s["stoppedReason"] for s in saved["tasks"]] == [None, "edited", None]
    await engine.persist(fresh=True)
    assert len(tasks_encoded) == 7
    assert sorted(assignments) == sorted(t.task_arn for t in tasks)  # a task's definition, once
