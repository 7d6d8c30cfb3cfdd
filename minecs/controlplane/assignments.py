"""What each instance should run: its desired set, and its version (the long-poll's engine).

Every change to what an instance should run bumps that instance's version; a long-poll parked with
``since=V`` returns as soon as the version is past ``V``. Versions come from the store's sequences, so
they only grow, also across controller restarts: the first use of an instance after a restart takes a
fresh number, which makes every agent re-fetch its set once (level-triggered, nothing is missed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minecs.controlplane.taskdefs import TaskDefinitions
from minecs.model.efs import nfs_from_json
from minecs.model.registered import to_json as taskdef_to_json
from minecs.model.stored import TASK_KIND
from minecs.model.task import DesiredStatus, StopCode, TaskAssignment
from minecs.model.taskdef import TaskDefinition
from minecs.model.wire import assignment_to_json, ecs_override_from_json
from minecs.scheduling.needs import with_task_size
from minecs.store import Store


class AssignmentVersions:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._current: dict[str, int] = {}
        self._changed = asyncio.Condition()

    async def bump(self, instance_id: str) -> int:
        version = await self.store.next_sequence(f"assignments/{instance_id}")
        async with self._changed:
            self._current[instance_id] = max(version, self._current.get(instance_id, 0))
            self._changed.notify_all()
        return version

    async def current(self, instance_id: str) -> int:
        if instance_id not in self._current:
            await self.bump(instance_id)
        return self._current[instance_id]

    async def wait_past(self, instance_id: str, since: int, within: float) -> int:
        """The version once it is past ``since``, or the current one after ``within`` seconds."""
        await self.current(instance_id)
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: self._current[instance_id] > since)
        except TimeoutError:
            pass
        return self._current[instance_id]


@dataclass(frozen=True)
class Assignments:
    """An instance's desired set, as the agent protocol sends it (docs/protocol.md)."""

    tasks: list[dict[str, Any]]
    definitions: dict[str, dict[str, Any]]
    """``taskDefinitionRef`` -> the task definition's JSON form."""

    def to_json(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "taskDefinitions": self.definitions}


class AssignmentSets:
    """Each instance's desired set, made from the stored tasks placed on it, with two caches.

    Every answer holds the whole set, so a service scaling out on one instance is answered 1, 2,
    ..., N tasks. Each task's JSON form names its task definition (``taskDefinitionRef``) and the
    answer carries each definition once: 50 copies of a service sent 50 copies of it. The task's
    JSON form is kept with the stored version it came from, and made again only when the task
    changed; a definition's, by its reference (a revision with a given task size never changes;
    deregistration changes only its status, which the agent does not read). The dicts are shared
    between answers: read only."""

    def __init__(self, store: Store, taskdefs: TaskDefinitions) -> None:
        self.store = store
        self.taskdefs = taskdefs
        self._encoded: dict[str, tuple[int, dict[str, Any]]] = {}
        """Task key -> (stored version, its assignment's JSON form)."""
        self._definitions: dict[str, tuple[TaskDefinition, dict[str, Any]]] = {}
        """``taskDefinitionRef`` -> the definition with its task size, and its JSON form."""

    async def of(self, instance_id: str) -> Assignments:
        """The instance's whole desired set: every task placed on it that is not finished."""
        tasks: list[dict[str, Any]] = []
        definitions: dict[str, dict[str, Any]] = {}
        for stored in await self.store.find(TASK_KIND, parent=instance_id):
            body = stored.body
            if body["lastStatus"] == "STOPPED" and body["desiredStatus"] == "STOPPED":
                self.forget(stored.key)
                continue
            ref = _definition_ref(body)
            definition, definitions[ref] = await self._definition(body, ref)
            cached = self._encoded.get(stored.key)
            if cached is None or cached[0] != stored.version:
                assignment = _assignment(body, definition)
                cached = stored.version, assignment_to_json(assignment, definition_ref=ref)
                self._encoded[stored.key] = cached
            tasks.append(cached[1])
        return Assignments(tasks, definitions)

    def forget(self, task_key: str) -> None:
        """Drop a finished or deleted task's cached form."""
        self._encoded.pop(task_key, None)

    async def _definition(self, body: Mapping[str, Any], ref: str) -> tuple[TaskDefinition, dict[str, Any]]:
        """The task's definition with its task-level size, and its JSON form; made once per ``ref``."""
        known = self._definitions.get(ref)
        if known is None:
            registered = await self.taskdefs.describe(body["taskDefinitionArn"])
            definition = with_task_size(registered.definition, *_task_size(body))
            known = self._definitions[ref] = definition, taskdef_to_json(definition)
        return known


def _assignment(body: Mapping[str, Any], td: TaskDefinition) -> TaskAssignment:
    overrides = tuple(ecs_override_from_json(o) for o in body["overrides"]["containerOverrides"])
    return TaskAssignment(
        task_arn=body["taskArn"],
        cluster=body["clusterArn"].rsplit("/", 1)[-1],
        definition=td,
        desired_status=DesiredStatus(body["desiredStatus"]),
        overrides=overrides,
        stop_code=StopCode(body["stopCode"]) if body.get("stopCode") else None,
        stopped_reason=body.get("stoppedReason"),
        started_by=body.get("startedBy"),
        group=body.get("group"),
        nfs_volumes={k: nfs_from_json(m) for k, m in (body.get("nfsVolumes") or {}).items()},
        launch_type=body.get("launchType") or "EXTERNAL",
    )


def _task_size(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The task-level cpu and memory RunTask's overrides set, if any."""
    size = body["overrides"]
    return (
        int(size["cpu"]) if size.get("cpu") else None,
        int(size["memory"]) if size.get("memory") else None,
    )


def _definition_ref(body: Mapping[str, Any]) -> str:
    """Names a task's definition as the agent gets it: the revision and the task-level size."""
    cpu, memory = _task_size(body)
    if cpu is None and memory is None:
        return str(body["taskDefinitionArn"])
    return f"{body['taskDefinitionArn']} cpu={cpu or ''} memory={memory or ''}"
