"""Task definitions in the control plane, on a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from minecs.controlplane.taskdefs import Identity, TaskDefinitions
from minecs.errors import ClientError
from minecs.model.taskdef import TaskDefinitionSpec, TaskDefinitionStatus
from minecs.store.sqlite import SqliteStore
from minecs.validation import parse_task_definition
from tests.taskdefs import container, taskdef


def spec(family: str = "web", **members: Any) -> TaskDefinitionSpec:
    return parse_task_definition(taskdef(container(), family=family, **members))


@pytest.fixture
async def taskdefs(tmp_path: Path) -> AsyncIterator[TaskDefinitions]:
    store = await SqliteStore.open(tmp_path / "db")
    yield TaskDefinitions(store, Identity("eu-west-1", "123456789012"))
    await store.close()


async def test_revisions_count_up_per_family(taskdefs: TaskDefinitions) -> None:
    first = await taskdefs.register(spec())
    second = await taskdefs.register(spec(memory="256"))
    other = await taskdefs.register(spec("api"))
    assert [first.definition.revision, second.definition.revision, other.definition.revision] == [1, 2, 1]
    assert second.definition.task_definition_arn == "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2"
    assert (await taskdefs.describe("web")).definition.revision == 2
    assert (await taskdefs.describe("web:1")).definition == first.definition
    assert (await taskdefs.describe(second.definition.task_definition_arn)).definition == second.definition


async def test_unknown_references_use_the_ecs_message(taskdefs: TaskDefinitions) -> None:
    for ref in ("nope", "web:9", "bad ref!"):
        with pytest.raises(ClientError, match=r"^Unable to describe task definition\.$"):
            await taskdefs.describe(ref)
    with pytest.raises(ClientError, match=r"^The specified task definition does not exist\.$"):
        await taskdefs.deregister("web:1")


async def test_deregistered_revisions_stay_describable_and_are_not_latest(taskdefs: TaskDefinitions) -> None:
    await taskdefs.register(spec())
    await taskdefs.register(spec(memory="256"))
    inactive = await taskdefs.deregister("web:2")
    assert inactive.status is TaskDefinitionStatus.INACTIVE
    assert inactive.deregistered_at is not None
    assert (await taskdefs.describe("web:2")).definition.status is TaskDefinitionStatus.INACTIVE
    assert (await taskdefs.describe("web")).definition.revision == 1
    assert (await taskdefs.deregister("web:2")) == inactive  # idempotent
    third = await taskdefs.register(spec())
    assert third.definition.revision == 3  # revisions are never reused


async def test_register_if_changed_is_a_no_op_for_the_same_spec(taskdefs: TaskDefinitions) -> None:
    first = await taskdefs.register_if_changed(spec(tags=[{"key": "team", "value": "a"}]))
    again = await taskdefs.register_if_changed(spec(tags=[{"key": "team", "value": "a"}]))
    assert (first.created, again.created) == (True, False)
    assert again.definition.revision == 1
    assert again.tags[0].key == "team"
    changed = await taskdefs.register_if_changed(spec(tags=[{"key": "team", "value": "b"}]))
    assert changed.definition.revision == 2


async def test_listing_and_families(taskdefs: TaskDefinitions) -> None:
    for family in ("web", "web", "webapp", "api", "worker"):
        await taskdefs.register(spec(family))
    await taskdefs.deregister("worker:1")
    assert [a.rsplit("/", 1)[1] for a in await taskdefs.list_arns()] == [
        "api:1",
        "web:1",
        "web:2",
        "webapp:1",
    ]
    newest, after = await taskdefs.page_arns(family="web", descending=True, limit=1)
    assert ([a.rsplit("/", 1)[1] for a in newest], after) == (["web:2"], ("web", 2))
    rest, after = await taskdefs.page_arns(family="web", descending=True, after=after, limit=1)
    assert ([a.rsplit("/", 1)[1] for a in rest], after) == (["web:1"], None)
    assert [a.rsplit("/", 1)[1] for a in await taskdefs.list_arns(status=TaskDefinitionStatus.INACTIVE)] == [
        "worker:1"
    ]
    assert await taskdefs.families() == (["api", "web", "webapp"], None)
    assert await taskdefs.families(status=None) == (["api", "web", "webapp", "worker"], None)
    assert await taskdefs.families(status=None, limit=2) == (["api", "web"], "web")
    assert await taskdefs.families(status=None, after="webapp") == (["worker"], None)


async def test_a_page_reads_what_it_returns_not_every_stored_revision(
    taskdefs: TaskDefinitions, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(60):
        await taskdefs.register(spec("web"))
    await taskdefs.register(spec("api"))
    store = taskdefs.store
    assert isinstance(store, SqliteStore)
    read: list[str] = []
    row = store._row

    def counted(raw: tuple[Any, ...]) -> Any:
        read.append(raw[1])
        return row(raw)

    monkeypatch.setattr(store, "_row", counted)
    arns, after = await taskdefs.page_arns(descending=True, limit=1)
    assert (arns[0].rsplit("/", 1)[1], after) == ("web:60", ("web", 60))
    assert (await taskdefs.describe("web")).definition.revision == 60
    assert await taskdefs.families(limit=1) == (["api"], "api")
    assert len(read) <= 3  # the page and the one after it, then the latest revision: no scan
