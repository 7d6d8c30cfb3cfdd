"""``Store`` on a SQLite file: stdlib ``sqlite3``, WAL, ``synchronous=FULL``, versioned migrations.

Two connections, each on its own thread (``minecs.store.threads``), so the event loop never
blocks: writes go to the group committer (every write waiting shares one transaction and one fsync,
and is answered only once that has committed), reads to a reader connection, which WAL lets read
the last commit while a write commits, so a read never waits for the disk. Compare-and-swap is a
single ``UPDATE ... WHERE version = ?`` whose row count says whether it won.

List and count queries seek instead of scanning: ``status`` and ``ordinal`` are columns SQLite
computes from the body (a task definition's status and revision, a task's ``lastStatus``, any other
object's ``status``), indexed with kind, parent and cluster.

Migrations (``minecs.store.migrations``) run when the writer connection opens.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from minecs.errors import StoreError, VersionConflictError
from minecs.logs import get_logger
from minecs.model import jsontext
from minecs.store import After, Stored
from minecs.store.migrations import migrate
from minecs.store.threads import GroupCommitter, Reader

log = get_logger(__name__)
T = TypeVar("T")

DECODED_BODIES = 4096
"""How many decoded bodies the store keeps (the most recently read)."""
_LAST = "\U0010ffff"
"""Sorts after every character: ``prefix <= x < prefix + _LAST`` is "x starts with prefix", seekably."""


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = GroupCommitter(self._error)
        self._reader = Reader(self._error)
        self._open = False
        self._decoded: OrderedDict[tuple[str, str], tuple[int, float, Any]] = OrderedDict()
        """Decoded bodies by (kind, key), with the version and creation time they are of, the most
        recently read last (the reader's thread only)."""

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        store = cls(path)
        await store._writer.start(store._connect_writer)
        store._open = True
        try:
            await store._reader.start(store._connect_reader)
        except BaseException:
            await store.close()
            raise
        return store

    def _error(self, exc: sqlite3.Error) -> StoreError:
        """The one mapping of SQLite's errors to ours: the message names no file; the log does."""
        log.warning("store failed", path=str(self.path), error=str(exc))
        return StoreError(f"store: {exc}")

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._open:
            raise StoreError("store is closed")
        result: T = await self._reader.submit(fn, *args)
        return result

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._open:
            raise StoreError("store is closed")
        result: T = await self._writer.submit(fn, *args)
        return result

    # ------------------------------------------------------------------ the threads
    def _connect_writer(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _connect_reader(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        db.execute("PRAGMA query_only=ON")
        return db

    def _row(self, row: tuple[Any, ...]) -> Stored:
        kind, key, version, cluster, parent, body, created_at, updated_at = row
        # Decoding task bodies was the store's biggest cost under DescribeTasks load; a body is
        # decoded once per version and then shared. Stored bodies are read-only by convention:
        # every writer builds a new mapping ({**body, ...}), none changes one in place. The
        # creation time tells an object from an earlier one under the same key and version.
        # Bounded: a cache that kept every body ever read (30,000 task definitions after a minute
        # of registering) made each full garbage collection of the controller ~100 ms.
        cached = self._decoded.get((kind, key))
        if cached is None or cached[:2] != (version, created_at):
            cached = (version, created_at, jsontext.loads(body))
            self._decoded[(kind, key)] = cached
            if len(self._decoded) > DECODED_BODIES:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end((kind, key))
        return Stored(kind, key, version, cached[2], cluster, parent, updated_at)

    _COLUMNS = "kind, key, version, cluster, parent, body, created_at, updated_at"

    def _get(self, db: sqlite3.Connection, kind: str, key: str) -> Stored | None:
        row = db.execute(
            f"SELECT {self._COLUMNS} FROM objects WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return self._row(row) if row else None

    def _get_many(self, db: sqlite3.Connection, kind: str, keys: list[str]) -> dict[str, Stored]:
        marks = ", ".join("?" * len(keys))
        rows = db.execute(
            f"SELECT {self._COLUMNS} FROM objects WHERE kind = ? AND key IN ({marks})", (kind, *keys)
        )
        return {stored.key: stored for stored in map(self._row, rows)}

    def _find(
        self, db: sqlite3.Connection, kind: str, cluster: str | None, parent: str | None
    ) -> list[Stored]:
        query = f"SELECT {self._COLUMNS} FROM objects WHERE kind = ?"
        args: list[Any] = [kind]
        if cluster is not None:
            query += " AND cluster = ?"
            args.append(cluster)
        if parent is not None:
            query += " AND parent = ?"
            args.append(parent)
        return [self._row(r) for r in db.execute(query + " ORDER BY created_at, key", args)]

    def _scan(
        self, db: sqlite3.Connection, kind: str, cluster: str, after: str | None, limit: int
    ) -> list[Stored]:
        query = f"SELECT {self._COLUMNS} FROM objects WHERE kind = ? AND cluster = ?"
        args: list[Any] = [kind, cluster]
        if after is not None:
            query += " AND key > ?"
            args.append(after)
        args.append(limit)
        return [self._row(r) for r in db.execute(query + " ORDER BY key LIMIT ?", args)]

    def _seek(
        self,
        db: sqlite3.Connection,
        *,
        kind: str,
        status: str,
        parent: str | None,
        prefix: str,
        after: After | None,
        descending: bool,
        limit: int,
    ) -> list[Stored]:
        query = f"SELECT {self._COLUMNS} FROM objects WHERE kind = ? AND status = ?"
        args: list[Any] = [kind, status]
        if parent is not None:
            query += " AND parent = ?"
            args.append(parent)
        # Each side of the range is one constraint SQLite can seek on: the prefix's bounds, and the
        # position (a row value) in place of the bound on its side. A position outside the prefix's
        # range on the side it comes from is no bound at all.
        low: list[tuple[str, list[Any]]] = [(" AND parent >= ?", [prefix])] if prefix else []
        high: list[tuple[str, list[Any]]] = [(" AND parent < ?", [prefix + _LAST])] if prefix else []
        outside = (
            prefix and (after[0] >= prefix + _LAST if descending else after[0] < prefix) if after else True
        )
        if after is not None and not outside:
            position = [(f" AND (parent, ordinal) {'<' if descending else '>'} (?, ?)", list(after))]
            low, high = (low, position) if descending else (position, high)
        for clause, values in (*low, *high):
            query += clause
            args += values
        order = "DESC" if descending else "ASC"
        query += f" ORDER BY parent {order}, ordinal {order} LIMIT ?"
        return [self._row(r) for r in db.execute(query, [*args, limit])]

    def _parents(
        self,
        db: sqlite3.Connection,
        *,
        kind: str,
        status: str | None,
        prefix: str,
        after: str | None,
        limit: int,
    ) -> list[str]:
        # One index seek per distinct parent (the next one after the last), however many objects
        # each parent has: a family with 1,000 revisions costs what a family with one does.
        query = "SELECT parent FROM objects WHERE kind = ? AND parent >= ?"
        args: list[Any] = [kind, prefix]
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        if prefix:
            query += " AND parent < ?"
            args.append(prefix + _LAST)
        found: list[str] = []
        last = after
        while len(found) < limit:
            tail = ([], "") if last is None else ([last], " AND parent > ?")
            row = db.execute(f"{query}{tail[1]} ORDER BY parent LIMIT 1", [*args, *tail[0]]).fetchone()
            if row is None:
                break
            last = row[0]
            found.append(row[0])
        return found

    def _count(self, db: sqlite3.Connection, kinds: list[str], cluster: str) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        marks = ", ".join("?" * len(kinds))
        rows = db.execute(
            f"SELECT kind, status, COUNT(*) FROM objects WHERE kind IN ({marks}) AND cluster = ? "
            "GROUP BY kind, status",
            (*kinds, cluster),
        )
        for kind, status, count in rows:
            counts[kind][status] = count
        return counts

    # ------------------------------------------------------------------ the writer's thread
    @staticmethod
    def _create(
        db: sqlite3.Connection, kind: str, key: str, *, body: str, cluster: str, parent: str
    ) -> Stored:
        now = time.time()
        try:
            db.execute(
                "INSERT INTO objects (kind, key, version, cluster, parent, body, created_at, updated_at) "
                "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                (kind, key, cluster, parent, body, now, now),
            )
        except sqlite3.IntegrityError as exc:
            raise VersionConflictError(f"{kind} {key} exists already") from exc
        return Stored(kind, key, 1, jsontext.loads(body), cluster, parent, now)

    @staticmethod
    def _update(
        db: sqlite3.Connection, kind: str, key: str, *, body: str, expected: int, parent: str | None
    ) -> Stored:
        row = db.execute(
            "UPDATE objects SET body = ?, version = version + 1, updated_at = ?, parent = COALESCE(?, parent) "
            "WHERE kind = ? AND key = ? AND version = ? RETURNING version, cluster, parent, updated_at",
            (body, time.time(), parent, kind, key, expected),
        ).fetchall()
        if len(row) != 1:
            raise VersionConflictError(f"{kind} {key} is not at version {expected}")
        version, cluster, new_parent, updated_at = row[0]
        return Stored(kind, key, version, jsontext.loads(body), cluster, new_parent, updated_at)

    @staticmethod
    def _delete(db: sqlite3.Connection, kind: str, key: str, expected: int | None) -> None:
        query = "DELETE FROM objects WHERE kind = ? AND key = ?"
        args: list[Any] = [kind, key]
        if expected is not None:
            query += " AND version = ?"
            args.append(expected)
        if db.execute(query, args).rowcount != 1 and expected is not None:
            raise VersionConflictError(f"{kind} {key} is not at version {expected}")

    @staticmethod
    def _next(db: sqlite3.Connection, name: str) -> int:
        row = db.execute(
            "INSERT INTO sequences (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ Store
    async def get(self, kind: str, key: str) -> Stored | None:
        return await self._read(self._get, kind, key)

    async def get_many(self, kind: str, keys: Sequence[str]) -> dict[str, Stored]:
        return await self._read(self._get_many, kind, list(keys)) if keys else {}

    async def find(self, kind: str, *, cluster: str | None = None, parent: str | None = None) -> list[Stored]:
        return await self._read(self._find, kind, cluster, parent)

    async def scan(self, kind: str, *, cluster: str, after: str | None = None, limit: int) -> list[Stored]:
        return await self._read(self._scan, kind, cluster, after, limit)

    async def seek(
        self,
        kind: str,
        *,
        status: str,
        parent: str | None = None,
        parent_prefix: str = "",
        after: After | None = None,
        descending: bool = False,
        limit: int,
    ) -> list[Stored]:
        seek = partial(
            self._seek,
            kind=kind,
            status=status,
            parent=parent,
            prefix=parent_prefix,
            after=after,
            descending=descending,
            limit=limit,
        )
        return await self._read(seek)

    async def parents(
        self, kind: str, *, status: str | None = None, prefix: str = "", after: str | None = None, limit: int
    ) -> list[str]:
        return await self._read(
            partial(self._parents, kind=kind, status=status, prefix=prefix, after=after, limit=limit)
        )

    async def count_by_status(self, kinds: Sequence[str], *, cluster: str) -> dict[str, dict[str, int]]:
        return await self._read(self._count, list(kinds), cluster)

    async def create(
        self, kind: str, key: str, body: Mapping[str, Any], *, cluster: str = "", parent: str = ""
    ) -> Stored:
        create = partial(
            self._create, kind=kind, key=key, body=jsontext.dumps_text(body), cluster=cluster, parent=parent
        )
        return await self._write(create)

    async def update(
        self,
        kind: str,
        key: str,
        body: Mapping[str, Any],
        *,
        expected_version: int,
        parent: str | None = None,
    ) -> Stored:
        update = partial(
            self._update,
            kind=kind,
            key=key,
            body=jsontext.dumps_text(body),
            expected=expected_version,
            parent=parent,
        )
        return await self._write(update)

    async def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None:
        await self._write(self._delete, kind, key, expected_version)

    async def next_sequence(self, name: str) -> int:
        return await self._write(self._next, name)

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            await self._reader.close()
        finally:
            await self._writer.close()
