"""Group commit for one SQLite write connection: many writes, one transaction, one fsync.

A commit with ``synchronous=FULL`` waits for the disk; one transaction per write made every write
queue behind every earlier fsync (and every read behind them, on the store's one thread). So one
dedicated thread owns the write connection and takes *every* write waiting when it is free: it runs
them in one ``BEGIN IMMEDIATE ... COMMIT``, each inside its own ``SAVEPOINT``, so that a write that
fails (a compare-and-swap that lost, a duplicate key) is rolled back alone and keeps its own
exception while the others go on. Writes that arrive meanwhile form the next transaction.

Acknowledgement comes after durability: no caller's future is answered before its transaction's
``COMMIT`` has returned. If the transaction as a whole fails (``BEGIN``, a savepoint, ``COMMIT``),
every write in it fails with the store's error and none of it is kept.

A caller that gave up (its task was cancelled) before its write began is skipped
(``concurrent.futures`` protocol: ``set_running_or_notify_cancel``); one cancelled later may still be
written, as a write handed to a thread always could.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from minecs.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")
Write = Callable[..., Any]
"""A function of the write connection (first argument) and its own arguments."""


@dataclass(frozen=True)
class _Pending:
    write: Write
    args: tuple[Any, ...]
    future: Future[Any]


class GroupCommitter:
    """The write connection's thread; ``failure`` turns an ``sqlite3.Error`` into the store's error."""

    def __init__(self, failure: Callable[[sqlite3.Error], Exception], name: str = "sqlite-writer") -> None:
        self._failure = failure
        self._name = name
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def start(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Open the connection on the thread (``connect`` also migrates); its failure is raised here."""
        opened: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(connect, opened), name=self._name, daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(opened)
        except BaseException:
            self._thread = None
            raise

    async def submit(self, write: Write, *args: Any) -> Any:
        """Run ``write(connection, *args)`` in the next transaction; its result once that has committed."""
        if self._thread is None:
            raise self._failure(sqlite3.ProgrammingError("store is closed"))
        future: Future[Any] = Future()
        self._queue.put(_Pending(write, args, future))
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        """Finish the writes handed over so far, close the connection, end the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(thread.join)

    # ------------------------------------------------------------------ the thread
    def _serve(self, connect: Callable[[], sqlite3.Connection], opened: Future[None]) -> None:
        try:
            db = connect()
        except sqlite3.Error as exc:
            opened.set_exception(self._failure(exc))
            return
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        try:
            self._serve_batches(db)
        finally:
            db.close()

    def _serve_batches(self, db: sqlite3.Connection) -> None:
        running = True
        while running:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            running = None not in batch
            pending = [p for p in batch if p is not None and p.future.set_running_or_notify_cancel()]
            try:
                self._commit(db, pending)
            except BaseException as exc:  # never leave a caller waiting, whatever went wrong
                log.exception("store writer failed")
                for p in pending:
                    if not p.future.done():
                        p.future.set_exception(exc)

    def _commit(self, db: sqlite3.Connection, pending: list[_Pending]) -> None:
        if not pending:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            db.execute("BEGIN IMMEDIATE")
            outcomes = [self._one(db, p) for p in pending]
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.rollback()
            for p in pending:
                p.future.set_exception(self._failure(exc))
            return
        for p, (ok, value) in zip(pending, outcomes, strict=True):
            if ok:
                p.future.set_result(value)
            else:
                p.future.set_exception(value)

    def _one(self, db: sqlite3.Connection, p: _Pending) -> tuple[bool, Any]:
        db.execute("SAVEPOINT write")
        try:
            value = p.write(db, *p.args)
        except Exception as exc:
            db.execute("ROLLBACK TO write")
            db.execute("RELEASE write")
            return False, self._failure(exc) if isinstance(exc, sqlite3.Error) else exc
        db.execute("RELEASE write")
        return True, value
