"""The SQLite store on a real file: compare-and-swap, no lost updates, sequences, migrations, reopen."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from minecs.errors import StoreError, VersionConflictError
from minecs.store import retry_update
from minecs.store.migrations import MIGRATIONS
from minecs.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "minecs.db")
    yield opened
    await opened.close()


async def test_create_get_update_delete_with_versions(store: SqliteStore) -> None:
    created = await store.create("service", "default/web", {"desiredCount": 1}, cluster="default")
    assert (created.version, created.body) == (1, {"desiredCount": 1})
    updated = await store.update("service", "default/web", {"desiredCount": 3}, expected_version=1)
    assert (updated.version, updated.body, updated.cluster) == (2, {"desiredCount": 3}, "default")
    assert await store.get("service", "default/web") == updated
    await store.delete("service", "default/web", expected_version=2)
    assert await store.get("service", "default/web") is None


async def test_stale_writes_and_duplicate_creates_are_conflicts(store: SqliteStore) -> None:
    await store.create("cluster", "edge", {})
    with pytest.raises(VersionConflictError, match="exists already"):
        await store.create("cluster", "edge", {})
    await store.update("cluster", "edge", {"a": 1}, expected_version=1)
    with pytest.raises(VersionConflictError, match="not at version 1"):
        await store.update("cluster", "edge", {"a": 2}, expected_version=1)
    with pytest.raises(VersionConflictError):
        await store.delete("cluster", "edge", expected_version=1)
    assert (await store.get("cluster", "edge")).body == {"a": 1}  # type: ignore[union-attr]


async def test_concurrent_read_modify_writes_lose_nothing(store: SqliteStore) -> None:
    await store.create("counter", "c", {"n": 0})

    def bump(body: Mapping[str, Any]) -> dict[str, Any]:
        return {"n": body["n"] + 1}

    await asyncio.gather(*(retry_update(store, "counter", "c", bump, attempts=100) for _ in range(25)))
    final = await store.get("counter", "c")
    assert final is not None
    assert (final.body["n"], final.version) == (25, 26)


async def test_find_by_cluster_and_parent_in_creation_order(store: SqliteStore) -> None:
    for i in range(3):
        await store.create(
            "task", f"t{i}", {"i": i}, cluster="a" if i < 2 else "b", parent="svc" if i else ""
        )
    assert [s.key for s in await store.find("task")] == ["t0", "t1", "t2"]
    assert [s.key for s in await store.find("task", cluster="a")] == ["t0", "t1"]
    assert [s.key for s in await store.find("task", parent="svc")] == ["t1", "t2"]
    assert [s.key for s in await store.find("task", cluster="a", parent="svc")] == ["t1"]


async def test_sequences_never_repeat_across_reopen(tmp_path: Path) -> None:
    first = await SqliteStore.open(tmp_path / "db")
    assert [await first.next_sequence("family/web") for _ in range(3)] == [1, 2, 3]
    assert await first.next_sequence("family/api") == 1
    await first.create("cluster", "default", {"x": 1})
    await first.close()
    second = await SqliteStore.open(tmp_path / "db")
    try:
        assert await second.next_sequence("family/web") == 4
        assert (await second.get("cluster", "default")).body == {"x": 1}  # type: ignore[union-attr]
    finally:
        await second.close()


async def test_durability_settings_and_schema_version(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db")
    await store.close()
    db = sqlite3.connect(tmp_path / "db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        db.close()
    again = await SqliteStore.open(tmp_path / "db")  # migrations are not run twice
    await again.close()


async def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db")
    await store.close()
    with pytest.raises(StoreError, match="store is closed"):
        await store.get("cluster", "default")
    with pytest.raises(StoreError, match="store is closed"):
        await store.create("cluster", "default", {})


async def test_update_can_move_an_object_to_another_parent(store: SqliteStore) -> None:
    await store.create("task", "t", {"placed": False}, cluster="c")
    moved = await store.update("task", "t", {"placed": True}, expected_version=1, parent="i-1")
    assert (moved.parent, moved.cluster) == ("i-1", "c")
    assert [s.key for s in await store.find("task", parent="i-1")] == ["t"]
    kept = await store.update("task", "t", {"placed": True, "x": 1}, expected_version=2)
    assert kept.parent == "i-1"


def _revision(family: str, revision: int, status: str = "ACTIVE") -> dict[str, Any]:
    return {"taskDefinition": {"family": family, "revision": revision, "status": status}}


async def _register(store: SqliteStore, family: str, revision: int, status: str = "ACTIVE") -> None:
    await store.create("taskdef", f"{family}:{revision}", _revision(family, revision, status), parent=family)


async def test_seek_orders_by_parent_then_revision_as_numbers_and_continues_after_a_position(
    store: SqliteStore,
) -> None:
    for revision in range(1, 13):
        await _register(store, "web", revision, "INACTIVE" if revision == 5 else "ACTIVE")
    await _register(store, "api", 1)
    await _register(store, "worker", 1)
    keys = [s.key for s in await store.seek("taskdef", status="ACTIVE", limit=100)]
    assert keys == ["api:1", *(f"web:{r}" for r in range(1, 13) if r != 5), "worker:1"]
    page = await store.seek("taskdef", status="ACTIVE", parent_prefix="we", after=("web", 9), limit=2)
    assert [s.key for s in page] == ["web:10", "web:11"]
    newest = await store.seek("taskdef", status="ACTIVE", parent="web", descending=True, limit=2)
    assert [s.key for s in newest] == ["web:12", "web:11"]
    before = await store.seek("taskdef", status="ACTIVE", descending=True, after=("web", 2), limit=5)
    assert [s.key for s in before] == ["web:1", "api:1"]
    assert [s.key for s in await store.seek("taskdef", status="INACTIVE", limit=5)] == ["web:5"]


async def test_parents_are_distinct_in_order_and_filtered_by_status_and_prefix(store: SqliteStore) -> None:
    for family, revision, status in [("web", 1, "ACTIVE"), ("web", 2, "ACTIVE"), ("webapp", 1, "INACTIVE")]:
        await _register(store, family, revision, status)
    await _register(store, "api", 1)
    assert await store.parents("taskdef", limit=10) == ["api", "web", "webapp"]
    assert await store.parents("taskdef", status="ACTIVE", limit=10) == ["api", "web"]
    assert await store.parents("taskdef", prefix="web", limit=10) == ["web", "webapp"]
    assert await store.parents("taskdef", after="api", limit=1) == ["web"]


async def test_count_by_status_counts_the_objects_of_one_cluster(store: SqliteStore) -> None:
    for n, (cluster, last) in enumerate(
        [("a", "RUNNING"), ("a", "RUNNING"), ("a", "STOPPED"), ("b", "RUNNING")]
    ):
        await store.create("task", f"t{n}", {"lastStatus": last}, cluster=cluster)
    await store.create("service", "a/web", {"status": "ACTIVE"}, cluster="a")
    assert await store.count_by_status(["task", "service", "instance"], cluster="a") == {
        "task": {"RUNNING": 2, "STOPPED": 1},
        "service": {"ACTIVE": 1},
        "instance": {},
    }
    stored = await store.get("task", "t2")
    assert stored is not None
    await store.update("task", "t2", {"lastStatus": "RUNNING"}, expected_version=stored.version)
    assert (await store.count_by_status(["task"], cluster="a"))["task"] == {"RUNNING": 3}


async def test_a_store_of_the_first_schema_migrates_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "minecs.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    old.execute("INSERT INTO schema_version VALUES (1)")
    for statement in filter(str.strip, MIGRATIONS[0].split(";")):
        old.execute(statement)
    rows = [
        ("taskdef", "web:1", "web", "", _revision("web", 1)),
        ("taskdef", "web:2", "web", "", _revision("web", 2, "INACTIVE")),
        ("taskdef", "api:10", "api", "", _revision("api", 10)),
        ("task", "t1", "", "default", {"lastStatus": "RUNNING"}),
    ]
    for kind, key, parent, cluster, body in rows:
        old.execute(
            "INSERT INTO objects VALUES (?, ?, 3, ?, ?, ?, 1.0, 2.0)",
            (kind, key, cluster, parent, json.dumps(body)),
        )
    old.close()
    store = await SqliteStore.open(path)
    try:
        kept = await store.get("taskdef", "web:2")
        assert kept is not None
        assert (kept.version, kept.body, kept.parent) == (3, _revision("web", 2, "INACTIVE"), "web")
        assert [s.key for s in await store.seek("taskdef", status="ACTIVE", limit=10)] == ["api:10", "web:1"]
        assert (await store.count_by_status(["task"], cluster="default"))["task"] == {"RUNNING": 1}
        await _register(store, "web", 3)
        assert [s.key for s in await store.seek("taskdef", status="ACTIVE", parent="web", limit=10)] == [
            "web:1",
            "web:3",
        ]
    finally:
        await store.close()
    check = sqlite3.connect(path)
    try:
        assert check.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        check.close()


async def test_decoded_bodies_are_kept_for_the_most_recently_read_only(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("minecs.store.sqlite.DECODED_BODIES", 3)
    for n in range(5):
        await store.create("task", f"t{n}", {"n": n})
    first = await store.get("task", "t0")
    assert len(await store.find("task")) == 5
    assert len(store._decoded) == 3  # a bounded cache: memory and garbage collection stay small
    again = await store.get("task", "t4")
    assert again is not None
    assert again.body == {"n": 4}
    assert first is not None
    assert (await store.get("task", "t0")) == first
