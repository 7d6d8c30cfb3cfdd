"""Group commit: writes waiting together share one transaction, keep their own outcomes, and are
answered only after their COMMIT has returned; a failed transaction fails every write in it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from minecs.errors import StoreError, VersionConflictError
from minecs.store.sqlite import SqliteStore
from minecs.store.threads import GroupCommitter


class Gated:
    """A real connection whose ``COMMIT`` waits for ``release`` (and fails when ``fail`` is set)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        self.committing = threading.Event()
        self.release = threading.Event()
        self.fail = False
        self.commits = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            self.committing.set()
            self.release.wait(10)
            if self.fail:
                raise sqlite3.OperationalError("disk I/O error")
            self.commits += 1
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def insert(db: sqlite3.Connection, n: int) -> int:
    db.execute("INSERT INTO t VALUES (?)", (n,))
    return n


def taken(db: sqlite3.Connection, n: int) -> int:
    db.execute("INSERT INTO t VALUES (?)", (n,))
    raise VersionConflictError(f"{n} is taken")


async def committer(gated: Gated) -> GroupCommitter:
    writer = GroupCommitter(lambda exc: StoreError(f"store: {exc}"))
    await writer.start(lambda: gated)  # type: ignore[arg-type, return-value]
    return writer


async def test_writes_arriving_during_a_commit_share_the_next_one_and_keep_their_own_outcomes(
    tmp_path: Path,
) -> None:
    gated = Gated(tmp_path / "db")
    writer = await committer(gated)
    first = asyncio.ensure_future(writer.submit(insert, 0))
    await asyncio.to_thread(gated.committing.wait, 10)
    assert not first.done()  # not acknowledged while its COMMIT has not returned
    rest = [asyncio.ensure_future(writer.submit(insert if n != 3 else taken, n)) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    gated.release.set()
    outcomes = await asyncio.gather(first, *rest, return_exceptions=True)
    assert outcomes[:3] == [0, 1, 2]
    assert isinstance(outcomes[3], VersionConflictError)
    assert outcomes[4:] == [4, 5]
    assert gated.commits == 2  # six writes, two transactions
    # The failed write was rolled back alone (its savepoint), the others kept.
    assert [n for (n,) in gated.db.execute("SELECT n FROM t ORDER BY n")] == [0, 1, 2, 4, 5]
    await writer.close()


async def test_a_transaction_that_fails_to_commit_fails_every_write_in_it(tmp_path: Path) -> None:
    gated = Gated(tmp_path / "db")
    gated.fail = True
    writer = await committer(gated)
    first = asyncio.ensure_future(writer.submit(insert, 0))
    await asyncio.to_thread(gated.committing.wait, 10)
    gated.release.set()
    with pytest.raises(StoreError, match="disk I/O error"):
        await first
    gated.fail = False
    assert await writer.submit(insert, 7) == 7
    assert [n for (n,) in gated.db.execute("SELECT n FROM t")] == [7]
    await writer.close()


async def test_concurrent_store_writes_lose_nothing_and_conflict_alone(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db")
    try:
        await store.create("c", "taken", {})
        creates = [store.create("c", f"k{n}", {"n": n}) for n in range(40)]
        outcomes = await asyncio.gather(*creates, store.create("c", "taken", {}), return_exceptions=True)
        assert isinstance(outcomes[-1], VersionConflictError)
        assert sorted(s.body["n"] for s in outcomes[:-1]) == list(range(40))  # type: ignore[union-attr]
        assert len(await store.find("c")) == 41
    finally:
        await store.close()


async def test_a_store_error_names_no_file(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db")
    try:
        with pytest.raises(StoreError) as caught:
            await store._write(lambda db: db.execute("SELECT * FROM nowhere"))
        assert str(tmp_path) not in str(caught.value)
    finally:
        await store.close()
