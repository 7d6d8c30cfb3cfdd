"""``Store`` on a SQLite file: stdlib ``sqlite3``, WAL, ``synchronous=FULL``, versioned migrations.

One connection, used by one dedicated thread (SQLite connections are not shared across threads), so
the event loop never blocks and writes are serialised in the order they were asked for. Compare-and-
swap is a single ``UPDATE ... WHERE version = ?`` whose row count says whether it won.

Migrations are a list of SQL scripts; ``schema_version`` records how many have run, and each runs in
its own transaction, so a controller upgraded mid-way resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from minecs.store import Stored, StoreError, VersionConflictError

T = TypeVar("T")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE objects (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        cluster TEXT NOT NULL DEFAULT '',
        parent TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX objects_by_cluster ON objects (kind, cluster, created_at);
    CREATE INDEX objects_by_parent ON objects (kind, parent, created_at);
    CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """,
)


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None
        self._decoded: dict[tuple[str, str], tuple[int, Any]] = {}
        """Decoded bodies by (kind, key), with the version they are of (used on the store's thread only)."""

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        store = cls(path)
        await store._run(store._open)
        return store

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        def call() -> T:
            try:
                return fn(*args)
            except sqlite3.Error as exc:
                raise StoreError(f"store: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    # ------------------------------------------------------------------ thread side
    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM schema_version").fetchone()
        done = row[0] if row else 0
        if row is None:
            db.execute("INSERT INTO schema_version VALUES (0)")
        for number, script in enumerate(MIGRATIONS[done:], start=done + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute("UPDATE schema_version SET version = ?", (number,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._db = db

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("store is closed")
        return self._db

    def _row(self, row: tuple[Any, ...]) -> Stored:
        kind, key, version, cluster, parent, body, updated_at = row
        # Decoding task bodies was the store's biggest cost under DescribeTasks load; a body is
        # decoded once per version and then shared. Stored bodies are read-only by convention:
        # every writer builds a new mapping ({**body, ...}), none changes one in place.
        cached = self._decoded.get((kind, key))
        if cached is None or cached[0] != version:
            cached = (version, json.loads(body))
            self._decoded[(kind, key)] = cached
        return Stored(kind, key, version, cached[1], cluster, parent, updated_at)

    _COLUMNS = "kind, key, version, cluster, parent, body, updated_at"

    def _get(self, kind: str, key: str) -> Stored | None:
        row = self.db.execute(
            f"SELECT {self._COLUMNS} FROM objects WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return self._row(row) if row else None

    def _get_many(self, kind: str, keys: list[str]) -> dict[str, Stored]:
        marks = ", ".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM objects WHERE kind = ? AND key IN ({marks})", (kind, *keys)
        )
        return {stored.key: stored for stored in map(self._row, rows)}

    def _find(self, kind: str, cluster: str | None, parent: str | None) -> list[Stored]:
        query = f"SELECT {self._COLUMNS} FROM objects WHERE kind = ?"
        args: list[Any] = [kind]
        if cluster is not None:
            query += " AND cluster = ?"
            args.append(cluster)
        if parent is not None:
            query += " AND parent = ?"
            args.append(parent)
        return [self._row(r) for r in self.db.execute(query + " ORDER BY created_at, key", args)]

    def _create(self, kind: str, key: str, body: str, cluster: str, parent: str) -> Stored:
        now = time.time()
        try:
            self.db.execute(
                "INSERT INTO objects (kind, key, version, cluster, parent, body, created_at, updated_at) "
                "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                (kind, key, cluster, parent, body, now, now),
            )
        except sqlite3.IntegrityError as exc:
            raise VersionConflictError(f"{kind} {key} exists already") from exc
        return Stored(kind, key, 1, json.loads(body), cluster, parent, now)

    def _update(self, kind: str, key: str, body: str, expected: int, parent: str | None) -> Stored:
        now = time.time()
        changed = self.db.execute(
            "UPDATE objects SET body = ?, version = version + 1, updated_at = ?, parent = COALESCE(?, parent) "
            "WHERE kind = ? AND key = ? AND version = ?",
            (body, now, parent, kind, key, expected),
        ).rowcount
        if changed != 1:
            raise VersionConflictError(f"{kind} {key} is not at version {expected}")
        stored = self._get(kind, key)
        assert stored is not None  # we just wrote it, on the only connection
        return stored

    def _delete(self, kind: str, key: str, expected: int | None) -> None:
        self._decoded.pop((kind, key), None)
        query = "DELETE FROM objects WHERE kind = ? AND key = ?"
        args: list[Any] = [kind, key]
        if expected is not None:
            query += " AND version = ?"
            args.append(expected)
        if self.db.execute(query, args).rowcount != 1 and expected is not None:
            raise VersionConflictError(f"{kind} {key} is not at version {expected}")

    def _next(self, name: str) -> int:
        row = self.db.execute(
            "INSERT INTO sequences (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ------------------------------------------------------------------ Store
    async def get(self, kind: str, key: str) -> Stored | None:
        return await self._run(self._get, kind, key)

    async def get_many(self, kind: str, keys: Sequence[str]) -> dict[str, Stored]:
        return await self._run(self._get_many, kind, list(keys)) if keys else {}

    async def find(self, kind: str, *, cluster: str | None = None, parent: str | None = None) -> list[Stored]:
        return await self._run(self._find, kind, cluster, parent)

    async def create(
        self, kind: str, key: str, body: Mapping[str, Any], *, cluster: str = "", parent: str = ""
    ) -> Stored:
        return await self._run(self._create, kind, key, json.dumps(body), cluster, parent)

    async def update(
        self,
        kind: str,
        key: str,
        body: Mapping[str, Any],
        *,
        expected_version: int,
        parent: str | None = None,
    ) -> Stored:
        return await self._run(self._update, kind, key, json.dumps(body), expected_version, parent)

    async def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None:
        await self._run(self._delete, kind, key, expected_version)

    async def next_sequence(self, name: str) -> int:
        return await self._run(self._next, name)

    async def close(self) -> None:
        await self._run(self._close)
        self._pool.shutdown(wait=True)
