"""The controller's durable state: a ``Store`` Protocol, and the SQLite store behind it by default.

Every object (cluster, task definition, task, service, container instance, registration token,
credential) is a JSON document stored under ``(kind, key)`` with a **resource version** that grows by
one on every write. Writes are compare-and-swap: ``update`` names the version it read, and a write
based on a stale read fails with ``VersionConflictError`` instead of silently losing another writer's
change. Callers re-read and retry (``retry_update`` does exactly that).

Two indexed columns, ``cluster`` and ``parent``, answer the queries the reconciler needs without
reading every document (tasks of a cluster, tasks of a service, revisions of a family). Two more
are derived by the store from the body, so no writer passes them: an object's **status** (a task
definition's ``taskDefinition.status``, a task's ``lastStatus``, any other object's ``status``) and
its **ordinal** (a task definition's revision, else 0). ``seek``, ``parents`` and
``count_by_status`` answer list and count calls from those indexes, at a cost that grows with what
they return, not with what is stored. A small sequence table hands out revision numbers and ids
atomically.

A write is acknowledged (its call returns) only once it is durable; writes that arrive together may
share one commit (group commit), each keeping its own result or error.

Design decision: the Protocol is the seam for a networked store (PostgreSQL) later, for controllers
in HA; nothing above this package knows it is SQLite.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from minecs.errors import VersionConflictError


@dataclass(frozen=True)
class Stored:
    kind: str
    key: str
    version: int
    body: Mapping[str, Any]
    cluster: str = ""
    parent: str = ""
    updated_at: float = field(default=0.0, compare=False)


After = tuple[str, int]
"""A position in (parent, ordinal) order: ``seek`` continues strictly after (or before) it."""


class Store(Protocol):
    async def get(self, kind: str, key: str) -> Stored | None: ...

    async def get_many(self, kind: str, keys: Sequence[str]) -> dict[str, Stored]:
        """The objects of ``kind`` among ``keys`` that exist, by key, in one read (DescribeTasks)."""
        ...

    async def find(self, kind: str, *, cluster: str | None = None, parent: str | None = None) -> list[Stored]:
        """Every object of ``kind`` (optionally in one cluster / under one parent), oldest first."""
        ...

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
        """Up to ``limit`` objects of ``kind`` with ``status`` (under ``parent``, or a parent starting
        with ``parent_prefix``), in (parent, ordinal) order or its reverse, strictly past ``after``."""
        ...

    async def scan(self, kind: str, *, cluster: str, after: str | None = None, limit: int) -> list[Stored]:
        """Up to ``limit`` objects of ``kind`` in ``cluster``, in key order, strictly after the key
        ``after``: a list call pages through a cluster reading only the rows it looks at."""
        ...

    async def parents(
        self, kind: str, *, status: str | None = None, prefix: str = "", after: str | None = None, limit: int
    ) -> list[str]:
        """Up to ``limit`` distinct parents (starting with ``prefix``, above ``after``, in order) of the
        objects of ``kind`` (with ``status``, when given): the families of task definitions."""
        ...

    async def count_by_status(self, kinds: Sequence[str], *, cluster: str) -> dict[str, dict[str, int]]:
        """For each of ``kinds``, how many of its objects in ``cluster`` have each status, in one read
        (DescribeClusters' counts)."""
        ...

    async def create(
        self, kind: str, key: str, body: Mapping[str, Any], *, cluster: str = "", parent: str = ""
    ) -> Stored:
        """Store a new object at version 1; ``VersionConflictError`` if the key is taken."""
        ...

    async def update(
        self,
        kind: str,
        key: str,
        body: Mapping[str, Any],
        *,
        expected_version: int,
        parent: str | None = None,
    ) -> Stored:
        """Replace the body (and ``parent``, when given) if the stored version is ``expected_version``."""
        ...

    async def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> None: ...

    async def next_sequence(self, name: str) -> int:
        """1, 2, 3, ... per ``name``, never repeating, even across restarts."""
        ...

    async def close(self) -> None: ...


async def retry_update(
    store: Store,
    kind: str,
    key: str,
    change: Callable[[Mapping[str, Any]], Mapping[str, Any] | Awaitable[Mapping[str, Any]]],
    *,
    attempts: int = 10,
) -> Stored:
    """Read, change, compare-and-swap; on a conflict read again and re-apply ``change``."""
    for _ in range(attempts):
        current = await store.get(kind, key)
        if current is None:
            raise VersionConflictError(f"{kind} {key} does not exist")
        changed = change(current.body)
        body = await changed if isinstance(changed, Awaitable) else changed
        try:
            return await store.update(kind, key, body, expected_version=current.version)
        except VersionConflictError:
            continue
    raise VersionConflictError(f"{kind} {key}: gave up after {attempts} conflicting updates")
