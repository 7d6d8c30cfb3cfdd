"""The SQLite store on a real file: compare-and-swap, no lost updates, sequences, migrations, reopen."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from minecs.store import StoreError, VersionConflictError, retry_update
from minecs.store.sqlite import MIGRATIONS, SqliteStore


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
    await store._run(store._close)
    with pytest.raises(StoreError, match="store is closed"):
        await store.get("cluster", "default")
    store._pool.shutdown()


async def test_update_can_move_an_object_to_another_parent(store: SqliteStore) -> None:
    await store.create("task", "t", {"placed": False}, cluster="c")
    moved = await store.update("task", "t", {"placed": True}, expected_version=1, parent="i-1")
    assert (moved.parent, moved.cluster) == ("i-1", "c")
    assert [s.key for s in await store.find("task", parent="i-1")] == ["t"]
    kept = await store.update("task", "t", {"placed": True, "x": 1}, expected_version=2)
    assert kept.parent == "i-1"
