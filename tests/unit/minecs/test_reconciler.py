"""The reconcile loop isolates what it cannot handle: a poisoned object never blocks the others.

Issue 15: one RunTask with ``memberOf: "<x>"`` made every later pass fail, so no other task was
placed and stopped tasks were never cleaned up. Here the poison is written into the store directly,
past every check at the API, as a bug or an old version might have left it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from minecs.api.metrics import ControllerMetrics
from minecs.controlplane.instances import Registration
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.requests import RunRequest
from minecs.controlplane.taskdefs import Identity
from minecs.reconciler import Failures, reconcile_once
from minecs.validation import parse_task_definition
from minecs.validation.service import parse_service
from tests.taskdefs import container, taskdef

NOW = datetime.now(UTC)


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    opened = await ControlPlane.open(tmp_path, Identity())
    await opened.taskdefs.register(parse_task_definition(taskdef(container("app", memory=64))))
    token = await opened.instances.tokens.create(now=NOW)
    await opened.instances.register(Registration("default", 4096, 4096), token=token)
    yield opened
    await opened.close()


async def report_running(plane: ControlPlane) -> None:
    for task in await plane.tasks.in_cluster("default"):
        if task["instanceId"] and task["lastStatus"] != "STOPPED" and task["desiredStatus"] == "RUNNING":
            snapshot: dict[str, Any] = {
                "taskArn": task["taskArn"],
                "seq": task["seq"] + 1,
                "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING",
                "healthStatus": "UNKNOWN",
                "startedAt": (NOW - timedelta(minutes=5)).isoformat(),
                "containers": [],
            }
            await plane.tasks.report(task["instanceId"], snapshot)


async def poison(plane: ControlPlane) -> tuple[str, str]:
    """A service and an unplaced task whose memberOf expression placement cannot read."""
    constraint = {"type": "memberOf", "expression": "<x>"}
    bad = await plane.services.create(
        parse_service({"serviceName": "bad", "taskDefinition": "web", "desiredCount": 1})
    )
    await plane.store.update(
        "service", "default/bad", {**bad, "placementConstraints": [constraint]}, expected_version=1
    )
    # Too big for the instance, so it waits unplaced; then its stored constraint is spoiled.
    (waiting,) = await plane.tasks.run(RunRequest("web", task_memory=100_000))
    key = waiting["taskArn"].rsplit("/", 1)[-1]
    stored = await plane.store.get("task", key)
    assert stored is not None
    assert not stored.body["instanceId"]
    placement = {**stored.body["placement"], "constraints": [constraint]}
    body = {**stored.body, "placement": placement, "reserved": {**stored.body["reserved"], "memory": 64}}
    await plane.store.update("task", key, body, expected_version=stored.version)
    return "default/bad", key


async def test_a_poisoned_service_and_task_are_skipped_and_everything_else_converges(
    plane: ControlPlane,
) -> None:
    bad_service, bad_task = await poison(plane)
    await plane.services.create(
        parse_service({"serviceName": "web", "taskDefinition": "web", "desiredCount": 2})
    )
    (old,) = await plane.tasks.run(RunRequest("web", task_memory=100_000))  # never placed: stops at once
    await plane.tasks.stop(None, old["taskArn"])
    (waiting,) = await plane.tasks.run(RunRequest("web", task_memory=8_000))  # placeable later
    metrics = ControllerMetrics(CollectorRegistry())
    failures = Failures(metrics)
    plane.tasks.retention = timedelta(0)
    with capture_logs() as logs:
        for _ in range(3):
            await reconcile_once(plane, observer=metrics, failures=failures)
            await report_running(plane)
        await plane.instances.register(
            Registration("default", 16384, 16384), token=await plane.instances.tokens.create(now=NOW)
        )
        await reconcile_once(plane, observer=metrics, failures=failures)

    web = await plane.services.get(None, "web")
    assert (web["runningCount"], web["deployments"][0]["rolloutState"]) == (2, "COMPLETED")
    assert (await plane.store.get("task", waiting["taskArn"].rsplit("/", 1)[-1])).body["instanceId"]  # type: ignore[union-attr]
    assert await plane.store.get("task", old["taskArn"].rsplit("/", 1)[-1]) is None  # forgotten
    # The poison is recorded where a user looks, and counted; the traceback is logged once.
    bad = await plane.services.get(None, "bad")
    assert bad["events"][0]["message"].startswith("(service bad) could not be reconciled: ")
    assert "'<x>'" in bad["events"][0]["message"]
    assert len([e for e in bad["events"] if "could not be reconciled" in e["message"]]) == 1
    stuck = await plane.store.get("task", bad_task)
    assert stuck is not None
    assert stuck.body["placementReason"].startswith("minecs could not place this task: ")
    registry = metrics.registry
    assert registry.get_sample_value("minecs_reconcile_failures_total", {"kind": "service"}) == 4
    assert registry.get_sample_value("minecs_reconcile_failures_total", {"kind": "task"}) == 4
    tracebacks = [e for e in logs if e["event"] == "object not reconciled"]
    assert {e["key"] for e in tracebacks} == {bad_service, bad_task}
    assert len(tracebacks) == 2
