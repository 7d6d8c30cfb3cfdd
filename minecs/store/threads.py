"""The store's threads: each owns one SQLite connection and serves whatever is waiting, in batches.

SQLite connections are not shared across threads, and the event loop must not wait for SQLite, so
each connection lives on its own thread. A caller hands over a function of the connection and
awaits its own asyncio future. The thread takes *every* call waiting when it is free and answers
the whole batch with one wake-up of the event loop (``call_soon_threadsafe``), not one per call: the
hop to a thread and back was a tenth of the controller's CPU under load.

``Reader`` runs each call on its own. ``GroupCommitter`` is the write connection's thread and the
reason for batches: one ``BEGIN IMMEDIATE ... COMMIT`` for all the writes waiting, one fsync for
many, each write inside its own ``SAVEPOINT``, so a write that fails (a compare-and-swap that lost,
a duplicate key) is rolled back alone and keeps its own exception while the others go on. Writes
that arrive meanwhile form the next transaction. Acknowledgement comes after durability: no write's
future is answered before its transaction's ``COMMIT`` has returned; if the transaction as a whole
fails (``BEGIN``, a savepoint, ``COMMIT``), every write in it fails and none of it is kept.

A call whose caller gave up (its task was cancelled) before the thread reached it is skipped; one
cancelled later may still run, as a call handed to a thread always could.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from minecs.logs import get_logger

log = get_logger(__name__)
Call = Callable[..., Any]
"""A function of the connection (first argument) and its own arguments."""
Outcome = tuple["asyncio.Future[Any]", bool, Any]
"""A call's future, whether it succeeded, and its result or exception."""


class _Pending(NamedTuple):
    call: Call
    args: tuple[Any, ...]
    future: asyncio.Future[Any]


class ConnectionThread:
    """One connection on one thread, serving batches; ``failure`` maps ``sqlite3.Error`` to ours."""

    def __init__(self, failure: Callable[[sqlite3.Error], Exception], name: str) -> None:
        self._failure = failure
        self._name = name
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Open the connection on the thread; a failure to open is raised here."""
        self._loop = asyncio.get_running_loop()
        opened: asyncio.Future[Any] = self._loop.create_future()
        self._thread = threading.Thread(
            target=self._serve, args=(connect, opened), name=self._name, daemon=True
        )
        self._thread.start()
        try:
            await opened
        except BaseException:
            self._thread = None
            raise

    async def submit(self, call: Call, *args: Any) -> Any:
        """``call(connection, *args)`` on the thread; its result (or exception) once the batch is done."""
        if self._thread is None or self._loop is None:
            raise self._failure(sqlite3.ProgrammingError("the connection is closed"))
        future = self._loop.create_future()
        self._queue.put(_Pending(call, args, future))
        return await future

    async def close(self) -> None:
        """Serve the calls handed over so far, close the connection, end the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(thread.join)

    # ------------------------------------------------------------------ the thread
    def _serve(self, connect: Callable[[], sqlite3.Connection], opened: asyncio.Future[Any]) -> None:
        try:
            db = connect()
        except Exception as exc:
            self._answer([(opened, False, self._mapped(exc))])
            return
        self._answer([(opened, True, None)])
        try:
            running = True
            while running:
                batch = [self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                running = None not in batch
                pending = [p for p in batch if p is not None and not p.future.cancelled()]
                if pending:
                    self._answer(self._serve_safely(db, pending))
        finally:
            db.close()

    def _serve_safely(self, db: sqlite3.Connection, pending: list[_Pending]) -> list[Outcome]:
        try:
            return self._serve_batch(db, pending)
        except BaseException as exc:  # never leave a caller waiting, whatever went wrong
            log.exception("store thread failed", thread=self._name)
            return [(p.future, False, exc) for p in pending]

    def _serve_batch(self, db: sqlite3.Connection, pending: list[_Pending]) -> list[Outcome]:
        return [(p.future, *self._one(db, p)) for p in pending]

    def _one(self, db: sqlite3.Connection, p: _Pending) -> tuple[bool, Any]:
        try:
            return True, p.call(db, *p.args)
        except Exception as exc:
            return False, self._mapped(exc)

    def _mapped(self, exc: Exception) -> Exception:
        return self._failure(exc) if isinstance(exc, sqlite3.Error) else exc

    def _answer(self, outcomes: list[Outcome]) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[Outcome]) -> None:
    for future, ok, value in outcomes:
        if future.done():  # cancelled meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class Reader(ConnectionThread):
    """The read connection's thread: each call on its own (WAL: reads see the last commit)."""

    def __init__(self, failure: Callable[[sqlite3.Error], Exception], name: str = "sqlite-reader") -> None:
        super().__init__(failure, name)


class GroupCommitter(ConnectionThread):
    """The write connection's thread: every write waiting, in one transaction."""

    def __init__(self, failure: Callable[[sqlite3.Error], Exception], name: str = "sqlite-writer") -> None:
        super().__init__(failure, name)

    def _serve_batch(self, db: sqlite3.Connection, pending: list[_Pending]) -> list[Outcome]:
        try:
            db.execute("BEGIN IMMEDIATE")
            outcomes = [(p.future, *self._savepoint(db, p)) for p in pending]
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.rollback()
            return [(p.future, False, self._failure(exc)) for p in pending]
        return outcomes

    def _savepoint(self, db: sqlite3.Connection, p: _Pending) -> tuple[bool, Any]:
        db.execute("SAVEPOINT write")
        try:
            value = p.call(db, *p.args)
        except Exception as exc:
            if isinstance(exc, sqlite3.Error) and not db.in_transaction:
                # SQLite rolled the whole transaction back itself (a full disk, an I/O error): the
                # savepoint is gone with it, and so is every write of this batch.
                raise
            db.execute("ROLLBACK TO write")
            db.execute("RELEASE write")
            return False, self._mapped(exc)
        db.execute("RELEASE write")
        return True, value
