"""ListTasks and ListServices cost what they look at, not what the cluster holds (issue 15, item 5).

Driven through botocore; the store's ``scan`` is watched to count the rows each call reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.requests import RunRequest
from minecs.store import Stored
from minecs.validation import parse_task_definition
from minecs.validation.service import parse_service
from tests.taskdefs import container, taskdef
from tests.unit.minecs.botoclient import Ecs


class Reads:
    """Counts the stored objects ``scan`` hands back."""

    def __init__(self, plane: ControlPlane, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = 0
        real = plane.store.scan

        async def counted(kind: str, **members: Any) -> list[Stored]:
            found = await real(kind, **members)
            self.rows += len(found)
            return found

        monkeypatch.setattr(plane.store, "scan", counted)


async def test_list_tasks_pages_read_only_what_they_return(
    ecs: Ecs, plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    await plane.taskdefs.register(parse_task_definition(taskdef(container())))
    for _ in range(25):  # 250 tasks, none placed (no instance): all desired RUNNING
        await plane.tasks.run(RunRequest("web", count=10))
    reads = Reads(plane, monkeypatch)
    first = await ecs("list_tasks", maxResults=2)
    assert len(first["taskArns"]) == 2
    assert reads.rows <= 3  # the two it answers, and one to know there is more
    seen = list(first["taskArns"])
    token = first["nextToken"]
    await plane.tasks.run(RunRequest("web", count=10))  # written between pages: nothing repeats
    while token:
        page = await ecs("list_tasks", maxResults=100, nextToken=token)
        seen += page["taskArns"]
        token = page.get("nextToken")
    assert len(seen) == len(set(seen)) >= 250
    assert set(seen) <= {t["taskArn"] for t in await plane.tasks.in_cluster("default")}


async def test_a_filter_that_matches_little_reads_a_bounded_number_of_rows_per_call(
    ecs: Ecs, plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    await plane.taskdefs.register(parse_task_definition(taskdef(container())))
    for _ in range(130):
        await plane.tasks.run(RunRequest("web", count=10))
    (lone,) = await plane.tasks.run(RunRequest("web", started_by="the-one"))
    reads = Reads(plane, monkeypatch)
    found, token, calls = [], "", 0
    while True:
        page = await ecs("list_tasks", startedBy="the-one", **({"nextToken": token} if token else {}))
        found += page["taskArns"]
        calls += 1
        token = page.get("nextToken", "")
        if not token:
            break
    assert found == [lone["taskArn"]]
    assert calls == 2  # 1,301 tasks, at most 1,000 read by one call: the page came back short
    assert reads.rows == 1301


async def test_list_services_leaves_out_inactive_ones_and_pages(ecs: Ecs, plane: ControlPlane) -> None:
    await plane.taskdefs.register(parse_task_definition(taskdef(container())))
    for name in ("a", "b", "c"):
        await plane.services.create(
            parse_service({"serviceName": name, "taskDefinition": "web", "desiredCount": 0})
        )
    await plane.services.delete(None, "b")
    await plane.services.reconcile("default/b")  # nothing to drain: INACTIVE at once
    assert (await plane.services.get(None, "b"))["status"] == "INACTIVE"
    first = await ecs("list_services", maxResults=1)
    second = await ecs("list_services", maxResults=1, nextToken=first["nextToken"])
    arns = first["serviceArns"] + second["serviceArns"]
    assert [a.rsplit("/", 1)[-1] for a in arns] == ["a", "c"]
    assert (
        "nextToken" not in second
        or not (await ecs("list_services", nextToken=second["nextToken"]))["serviceArns"]
    )
