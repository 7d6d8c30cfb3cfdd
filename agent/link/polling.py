"""The agent's two loops with the controller: the assignment long-poll and the state reports.

* ``poll`` long-polls the instance's assignment set and applies every task to the engine
  (level-triggered: the whole set each time), and serves the log and exec requests listed with it;
* ``report`` sends the engine's state changes, keeping the latest unacknowledged snapshot of each
  task and resending until the controller acknowledges its ``seq``.

While the controller is unreachable both back off (1 s doubling to 30 s) and the engine keeps
running its tasks: edge autonomy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from prometheus_client import Gauge

from agent.link.client import Backoff, ControllerClient, Identity
from agent.link.execs import ExecSessions
from agent.link.logupload import LogUploads
from agent.link.served import Served
from agent.tasks.engine import Engine
from minecs.aiotasks import sleep_or_wake
from minecs.errors import ControllerRefusedError, ControllerUnavailableError
from minecs.logs import get_logger
from minecs.model.task import TaskAssignment
from minecs.model.taskdef import TaskDefinition
from minecs.model.wire import assignment_from_json, snapshot_to_json, taskdef_from_json_checked

log = get_logger(__name__)


class LinkHealth(Protocol):
    """What the loops tell the agent's metrics (``agent.insights.server.AgentHealth``)."""

    def contact(self) -> None:
        """The controller answered."""
        ...

    @property
    def reports_pending(self) -> Gauge: ...


async def poll(
    client: ControllerClient,
    identity: Identity,
    engine: Engine,
    health: LinkHealth,
    *,
    wait: float,
    stop: asyncio.Event,
    backoff: Backoff | None = None,
) -> None:
    served = {
        "logRequests": LogUploads(client, identity, engine),
        "execRequests": ExecSessions(client, identity, engine),
    }
    try:
        await _poll_assignments(
            client,
            engine,
            identity,
            served,
            health=health,
            wait=wait,
            stop=stop,
            backoff=backoff or Backoff(),
        )
    finally:
        for requests in served.values():
            await requests.close()


class DecodedAssignments:
    """Decodes a poll answer, reusing the decoding of what is unchanged since the last answer.

    Every answer holds the instance's whole desired set. Comparing two dicts is far cheaper than
    decoding them again, so a task definition (sent once per answer, named by each task's
    ``taskDefinitionRef``) and a task whose JSON form is unchanged keep their decoding. What an
    answer leaves out is forgotten. A task with its definition inline (``taskDefinition``) is
    decoded too."""

    def __init__(self) -> None:
        self._definitions: dict[str, tuple[dict[str, Any], TaskDefinition]] = {}
        self._tasks: dict[str, tuple[dict[str, Any], TaskAssignment]] = {}

    def of(self, answer: Mapping[str, Any]) -> list[TaskAssignment]:
        definitions: dict[str, tuple[dict[str, Any], TaskDefinition]] = {}
        changed: set[str] = set()
        for ref, raw_definition in (answer.get("taskDefinitions") or {}).items():
            known = self._definitions.get(ref)
            if known is None or known[0] != raw_definition:
                known = raw_definition, taskdef_from_json_checked(raw_definition)
                changed.add(ref)
            definitions[ref] = known
        decoded = {ref: definition for ref, (_, definition) in definitions.items()}
        tasks: dict[str, tuple[dict[str, Any], TaskAssignment]] = {}
        for raw in answer["tasks"]:
            known_task = self._tasks.get(raw["taskArn"])
            if known_task is None or known_task[0] != raw or raw.get("taskDefinitionRef") in changed:
                known_task = raw, assignment_from_json(raw, decoded)
            tasks[raw["taskArn"]] = known_task
        self._definitions, self._tasks = definitions, tasks
        return [assignment for _, assignment in tasks.values()]


async def _poll_assignments(
    client: ControllerClient,
    engine: Engine,
    identity: Identity,
    served: Mapping[str, Served],
    *,
    health: LinkHealth,
    wait: float,
    stop: asyncio.Event,
    backoff: Backoff,
) -> None:
    since = 0
    decoded = DecodedAssignments()
    while not stop.is_set():
        try:
            answer = await client.assignments(identity, since, wait)
        except (ControllerUnavailableError, ControllerRefusedError) as exc:
            delay = backoff.failed()
            log.warning(
                "assignments not fetched; tasks keep running", error=exc.message, retry_in_seconds=delay
            )
            await sleep_or_wake(delay, stop)
            continue
        backoff.answered()
        health.contact()
        for assignment in decoded.of(answer):
            engine.apply(assignment)
        for member, requests in served.items():
            requests.serve(answer.get(member) or [])
        since = int(answer["version"])


async def report(
    client: ControllerClient,
    identity: Identity,
    changes: asyncio.Queue[Any],
    health: LinkHealth,
    stop: asyncio.Event,
    *,
    backoff: Backoff | None = None,
) -> None:
    unacknowledged: dict[str, dict[str, Any]] = {}
    backoff = backoff or Backoff()
    while not stop.is_set():
        if not unacknowledged:
            snapshot = await changes.get()
            unacknowledged[snapshot.task_arn] = snapshot_to_json(snapshot)
        while not changes.empty():  # a later snapshot of a task replaces the earlier one
            snapshot = changes.get_nowait()
            unacknowledged[snapshot.task_arn] = snapshot_to_json(snapshot)
        health.reports_pending.set(len(unacknowledged))
        try:
            acknowledged = await client.report(identity, list(unacknowledged.values()))
        except ControllerRefusedError as exc:
            # Resending what the controller refuses cannot succeed; the next change is sent afresh.
            log.error("controller refused state reports", error=exc.message, dropped=len(unacknowledged))
            unacknowledged.clear()
            continue
        except ControllerUnavailableError as exc:
            delay = backoff.failed()
            log.warning(
                "state not reported yet",
                error=exc.message,
                pending=len(unacknowledged),
                retry_in_seconds=delay,
            )
            await sleep_or_wake(delay, stop)
            continue
        backoff.answered()
        health.contact()
        for arn, seq in acknowledged.items():
            if arn in unacknowledged and unacknowledged[arn]["seq"] <= seq:
                del unacknowledged[arn]
        health.reports_pending.set(len(unacknowledged))
