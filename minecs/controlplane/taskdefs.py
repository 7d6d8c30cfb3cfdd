"""Task definitions in the control plane: register (revisions per family), describe, list, deregister.

One service layer for both front ends (native ``/v1`` and the ECS JSON 1.1 endpoint), so they
cannot disagree. Revisions come from the store's sequence per family, so they are 1, 2, 3, ... and
never reused, even after deregistration or a controller restart. A deregistered definition stays
describable (INACTIVE), as in ECS.

``register_if_changed`` is what declarative ``apply`` uses: when the latest ACTIVE revision holds the
same spec (and tags), nothing is registered and that revision is returned.

Exact ECS strings: ``Unable to describe task definition.`` (ClientException) for an unknown
reference; ``The specified task definition does not exist.`` for deregistering one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from minecs.errors import ClientError
from minecs.model.codec import Decoder, encode
from minecs.model.registered import deregister, from_json, register, spec_of, task_definition_arn, to_json
from minecs.model.taskdef import Tag, TaskDefinition, TaskDefinitionSpec, TaskDefinitionStatus
from minecs.store import After, Store, retry_update

KIND = "taskdef"
REF = re.compile(
    r"^(?:arn:[\w-]+:ecs:[\w-]*:\d*:task-definition/)?(?P<family>[A-Za-z0-9_-]{1,255})(?::(?P<revision>\d{1,10}))?$"
)


@dataclass(frozen=True)
class Identity:
    """Where ARNs say this control plane lives."""

    region: str = "us-east-1"
    account: str = "000000000000"


@dataclass(frozen=True)
class Registered:
    definition: TaskDefinition
    tags: tuple[Tag, ...]
    created: bool = True

    @cached_property
    def body(self) -> dict[str, Any]:
        """``taskDefinition`` and ``tags`` as ECS shows them: the stored body and Register's answer,
        encoded once (it is most of what a RegisterTaskDefinition costs)."""
        return _body(self.definition, self.tags)


def _key(family: str, revision: int) -> str:
    return f"{family}:{revision}"


def _body(td: TaskDefinition, tags: tuple[Tag, ...]) -> dict[str, Any]:
    return {"taskDefinition": to_json(td), "tags": [encode(t) for t in tags]}


def _load(body: Any) -> Registered:
    td, decoder = from_json(dict(body["taskDefinition"]))
    tags = tuple(Decoder().decode(Tag, t) for t in body.get("tags", []))
    if decoder.problems:
        raise ClientError(f"stored task definition is unreadable: {decoder.problems[0].render()}")
    return Registered(td, tags, created=False)


class TaskDefinitions:
    def __init__(
        self, store: Store, identity: Identity, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ):
        self.store = store
        self.identity = identity
        self.clock = clock

    async def register(self, spec: TaskDefinitionSpec, *, registered_by: str | None = None) -> Registered:
        """Register ``spec`` (already validated) as the family's next revision."""
        revision = await self.store.next_sequence(f"family/{spec.family}")
        arn = task_definition_arn(self.identity.region, self.identity.account, spec.family, revision)
        td = register(
            spec, arn=arn, revision=revision, registered_at=self.clock(), registered_by=registered_by
        )
        registered = Registered(td, spec.tags)
        await self.store.create(KIND, _key(spec.family, revision), registered.body, parent=spec.family)
        return registered

    async def register_if_changed(self, spec: TaskDefinitionSpec) -> Registered:
        latest = await self.latest_active(spec.family)
        if latest is not None and spec_of(latest.definition, latest.tags) == spec:
            return latest
        return await self.register(spec)

    async def describe(self, reference: str) -> Registered:
        """``family`` (latest ACTIVE revision), ``family:revision`` or a task definition ARN."""
        match = REF.match(reference)
        if match is None:
            raise ClientError("Unable to describe task definition.")
        family, revision = match["family"], match["revision"]
        if revision is None:
            found = await self.latest_active(family)
        else:
            stored = await self.store.get(KIND, _key(family, int(revision)))
            found = _load(stored.body) if stored else None
        if found is None:
            raise ClientError("Unable to describe task definition.")
        return found

    async def latest_active(self, family: str) -> Registered | None:
        """The family's newest ACTIVE revision, or None when it has none."""
        latest = await self.store.seek(
            KIND, status=TaskDefinitionStatus.ACTIVE.value, parent=family, descending=True, limit=1
        )
        return _load(latest[0].body) if latest else None

    async def deregister(self, reference: str) -> TaskDefinition:
        match = REF.match(reference)
        if match is not None and match["revision"] is None:
            raise ClientError("Revision is missing.")  # ECS's words for a family without one
        if match is None:
            raise ClientError("The specified task definition does not exist.")
        key = _key(match["family"], int(match["revision"]))
        if await self.store.get(KIND, key) is None:
            raise ClientError("The specified task definition does not exist.")

        def mark_inactive(body: Any) -> dict[str, Any]:
            current = _load(body)
            if current.definition.status is TaskDefinitionStatus.INACTIVE:
                return dict(body)
            return _body(deregister(current.definition, self.clock()), current.tags)

        stored = await retry_update(self.store, KIND, key, mark_inactive)
        return _load(stored.body).definition

    async def delete(self, reference: str) -> TaskDefinition:
        """DeleteTaskDefinitions for one revision: only an INACTIVE one; it turns DELETE_IN_PROGRESS.

        Choice: ECS removes such revisions later, on its own schedule; minecs keeps them in that
        status (describable, never runnable), which is what a caller of ECS sees meanwhile."""
        match = REF.match(reference)
        stored = (
            await self.store.get(KIND, _key(match["family"], int(match["revision"])))
            if match is not None and match["revision"] is not None
            else None
        )
        if stored is None:
            raise ClientError("The specified task definition does not exist.")
        if _load(stored.body).definition.status is TaskDefinitionStatus.ACTIVE:
            raise ClientError(
                "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
            )

        def mark(body: Any) -> dict[str, Any]:
            current = _load(body)
            gone = dataclasses.replace(current.definition, status=TaskDefinitionStatus.DELETE_IN_PROGRESS)
            return _body(gone, current.tags)

        return _load((await retry_update(self.store, KIND, stored.key, mark)).body).definition

    async def page_arns(
        self,
        *,
        family: str | None = None,
        status: TaskDefinitionStatus = TaskDefinitionStatus.ACTIVE,
        descending: bool = False,
        after: After | None = None,
        limit: int = 100,
    ) -> tuple[list[str], After | None]:
        """Up to ``limit`` ARNs ordered by family then revision (ListTaskDefinitions), strictly past the
        position ``after``; and the position of the last one when more follow.

        ``family`` is one family, matched exactly: ListTaskDefinitions's ``familyPrefix`` is, despite
        its name, "the full family name" (the ECS API reference), so ``web`` does not list ``webapp``."""
        found = await self.store.seek(
            KIND,
            status=status.value,
            parent=family or None,
            after=after,
            descending=descending,
            limit=limit + 1,
        )
        shown = [s.body["taskDefinition"] for s in found[:limit]]
        last = (shown[-1]["family"], shown[-1]["revision"]) if len(found) > limit else None
        return [td["taskDefinitionArn"] for td in shown], last

    async def list_arns(
        self, *, family: str | None = None, status: TaskDefinitionStatus = TaskDefinitionStatus.ACTIVE
    ) -> list[str]:
        """Every ARN ``page_arns`` would list, page after page."""
        arns, after = await self.page_arns(family=family, status=status)
        while after is not None:
            more, after = await self.page_arns(family=family, status=status, after=after)
            arns += more
        return arns

    async def families(
        self,
        *,
        prefix: str = "",
        status: TaskDefinitionStatus | None = TaskDefinitionStatus.ACTIVE,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[str], str | None]:
        """Up to ``limit`` family names in order, past ``after`` (ListTaskDefinitionFamilies; ``status``
        None for every status); and the last one when more follow."""
        found = await self.store.parents(
            KIND, status=status.value if status else None, prefix=prefix, after=after, limit=limit + 1
        )
        return found[:limit], found[limit - 1] if len(found) > limit else None
