"""Tasks in the control plane on a real store: placement, PENDING without capacity, stop, reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minecs.api.runrequest import run_request
from minecs.controlplane.assignments import Assignments, AssignmentVersions
from minecs.controlplane.clusters import Clusters, Failure
from minecs.controlplane.instances import Instances, Registration
from minecs.controlplane.requests import RunRequest
from minecs.controlplane.taskdefs import Identity, TaskDefinitions
from minecs.controlplane.tasks import Tasks
from minecs.errors import AccessDeniedError, ClientError, InvalidParameterError
from minecs.model.task import ContainerOverride, TaskAssignment
from minecs.model.wire import assignment_from_json, taskdef_from_json_checked
from minecs.store.sqlite import SqliteStore
from minecs.validation import parse_task_definition
from tests.taskdefs import container, taskdef

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Plane:
    store: SqliteStore
    taskdefs: TaskDefinitions
    instances: Instances
    versions: AssignmentVersions
    tasks: Tasks

    async def instance(self, cpu: int = 1024, memory: int = 1024) -> str:
        token = await self.instances.tokens.create(now=datetime.now(UTC))
        registered = await self.instances.register(Registration("default", cpu, memory), token=token)
        return str(registered.instance["instanceId"])


def decoded(answer: Assignments) -> list[TaskAssignment]:
    definitions = {ref: taskdef_from_json_checked(d) for ref, d in answer.definitions.items()}
    return [assignment_from_json(t, definitions) for t in answer.tasks]


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[Plane]:
    store = await SqliteStore.open(tmp_path / "db")
    identity = Identity("us-east-1", "123456789012")
    taskdefs = TaskDefinitions(store, identity)
    clusters = Clusters(store, identity)
    instances = Instances(store, identity)
    versions = AssignmentVersions(store)
    tasks = Tasks(
        store, identity, taskdefs=taskdefs, clusters=clusters, instances=instances, versions=versions
    )
    await taskdefs.register(
        parse_task_definition(
            taskdef(container("app", memory=256, portMappings=[{"containerPort": 80, "hostPort": 8080}]))
        )
    )
    yield Plane(store, taskdefs, instances, versions, tasks)
    await store.close()


async def test_run_places_on_an_instance_and_bumps_its_assignments(plane: Plane) -> None:
    instance = await plane.instance()
    before = await plane.versions.current(instance)
    (task,) = await plane.tasks.run(
        RunRequest("web", overrides=(ContainerOverride("app", command=("echo", "hi")),), started_by="me")
    )
    assert (task["lastStatus"], task["desiredStatus"], task["instanceId"]) == ("PENDING", "RUNNING", instance)
    assert task["taskArn"].startswith("arn:aws:ecs:us-east-1:123456789012:task/default/")
    assert await plane.versions.current(instance) > before
    (assignment,) = decoded(await plane.tasks.assignments(instance))
    assert assignment.task_arn == task["taskArn"]
    assert assignment.definition.family == "web"
    assert assignment.override_for("app") == ContainerOverride("app", command=("echo", "hi"))


async def test_an_answer_sends_each_definition_once_and_encodes_a_task_again_only_when_it_changed(
    plane: Plane,
) -> None:
    instance = await plane.instance(cpu=4096, memory=4096)
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=64), family="free")))
    await plane.tasks.run(RunRequest("free"))
    await plane.tasks.run(RunRequest("free", task_memory=512))
    await plane.tasks.run(RunRequest("free", overrides=(ContainerOverride("app", command=("true",)),)))
    first = await plane.tasks.assignments(instance)
    assert len(first.tasks) == 3
    assert sorted(first.definitions) == [
        "arn:aws:ecs:us-east-1:123456789012:task-definition/free:1",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/free:1 cpu= memory=512",
    ]
    assert sorted(str(a.definition.memory) for a in decoded(first)) == ["512", "None", "None"]
    again = await plane.tasks.assignments(instance)
    assert all(a is b for a, b in zip(again.tasks, first.tasks, strict=True))  # kept, not made again
    plain = next(t for t in first.tasks if not t["overrides"] and "cpu=" not in t["taskDefinitionRef"])
    await plane.tasks.stop(None, plain["taskArn"], reason="deploy")
    stopping = next(
        t for t in (await plane.tasks.assignments(instance)).tasks if t["taskArn"] == plain["taskArn"]
    )
    assert (stopping["desiredStatus"], stopping["stoppedReason"]) == ("STOPPED", "deploy")
    assert plain["desiredStatus"] == "RUNNING"  # an earlier answer is left as it was


async def test_without_capacity_a_task_stays_pending_with_the_reason_and_is_placed_later(
    plane: Plane,
) -> None:
    await plane.instance(memory=256)
    first, second = await plane.tasks.run(RunRequest("web", count=2))
    assert first["instanceId"]
    assert second["instanceId"] == ""
    assert second["lastStatus"] == "PENDING"
    assert second["placementReason"] == (
        "No Container Instances met all of its requirements: insufficient memory."
    )
    await plane.instance(memory=512)
    assert await plane.tasks.place_pending("default") == 1


async def test_a_static_host_port_is_taken_only_once_per_instance(plane: Plane) -> None:
    await plane.instance(cpu=4096, memory=4096)
    first, second = await plane.tasks.run(RunRequest("web", count=2))
    assert first["instanceId"]
    assert (
        second["placementReason"]
        == "No Container Instances met all of its requirements: host port already in use."
    )


async def test_count_limits_and_inactive_definitions(plane: Plane) -> None:
    with pytest.raises(InvalidParameterError, match="count must be between 1 and 10"):
        run_request({"taskDefinition": "web", "count": 11})  # RunTask's limit, where the API reads it
    with pytest.raises(InvalidParameterError, match="count must be between 1 and 10"):
        run_request({"taskDefinition": "web", "count": 0})
    with pytest.raises(InvalidParameterError, match="count must be between 1 and 10"):
        await plane.tasks.run(RunRequest("web", count=0))
    await plane.taskdefs.deregister("web:1")
    with pytest.raises(ClientError, match="Unable to describe task definition"):
        await plane.tasks.run(RunRequest("web"))
    with pytest.raises(ClientError, match="TaskDefinition is inactive"):
        await plane.tasks.run(RunRequest("web:1"))


async def test_stop_tells_the_agent_and_an_unplaced_task_stops_at_once(plane: Plane) -> None:
    instance = await plane.instance(memory=256)
    placed, unplaced = await plane.tasks.run(RunRequest("web", count=2))
    version = await plane.versions.current(instance)
    stopping = await plane.tasks.stop(None, placed["taskArn"], reason="deploy")
    assert (stopping["desiredStatus"], stopping["stoppedReason"], stopping["stopCode"]) == (
        "STOPPED",
        "deploy",
        "UserInitiated",
    )
    assert await plane.versions.current(instance) > version
    stopped = await plane.tasks.stop("default", unplaced["taskArn"])
    assert (stopped["lastStatus"], stopped["stoppedReason"]) == ("STOPPED", "Task stopped by user")
    found, failures = await plane.tasks.describe(
        None, [placed["taskArn"], "arn:aws:ecs:us-east-1:123456789012:task/default/nope"]
    )
    assert [t["taskArn"] for t in found] == [placed["taskArn"]]
    assert failures == [Failure("arn:aws:ecs:us-east-1:123456789012:task/default/nope")]


def snapshot(task_arn: str, seq: int, status: str) -> dict[str, object]:
    return {
        "taskArn": task_arn,
        "seq": seq,
        "lastStatus": status,
        "desiredStatus": "RUNNING",
        "healthStatus": "UNKNOWN",
        "stopCode": None,
        "stoppedReason": None,
        "startedAt": NOW.isoformat(),
        "containers": [
            {
                "name": "app",
                "knownStatus": "RUNNING",
                "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING",
                "essential": True,
                "runtimeId": "abc",
                "image": "img",
                "exitCode": None,
                "reason": None,
                "healthStatus": "UNKNOWN",
                "restartCount": 0,
                "networkBindings": [
                    {"containerPort": 80, "hostPort": 8080, "protocol": "tcp", "bindIP": "0.0.0.0"}
                ],
            }
        ],
    }


async def test_reports_are_ordered_idempotent_and_only_from_the_owner(plane: Plane) -> None:
    first, second = await plane.instance(), await plane.instance()
    (task,) = await plane.tasks.run(RunRequest("web"))
    instance = task["instanceId"]
    other = second if instance == first else first
    assert await plane.tasks.report(instance, snapshot(task["taskArn"], 2, "RUNNING")) == 2
    assert await plane.tasks.report(instance, snapshot(task["taskArn"], 1, "ACTIVATING")) == 2  # stale replay
    (stored,), _ = await plane.tasks.describe(None, [task["taskArn"]])
    assert stored["lastStatus"] == "RUNNING"
    assert stored["startedAt"] == NOW.timestamp()
    (c,) = stored["containers"]
    assert (c["runtimeId"], c["networkBindings"][0]["hostPort"], c["lastStatus"]) == ("abc", 8080, "RUNNING")
    assert c["containerArn"].startswith("arn:aws:ecs:us-east-1:123456789012:container/default/")
    with pytest.raises(AccessDeniedError, match="is not assigned to instance"):
        await plane.tasks.report(other, snapshot(task["taskArn"], 3, "STOPPED"))
    json.dumps(stored)  # stays plain JSON


async def test_stopped_tasks_are_forgotten_after_the_retention_only(plane: Plane) -> None:
    await plane.instance(memory=256)
    placed, unplaced = await plane.tasks.run(RunRequest("web", count=2))
    await plane.tasks.stop(None, unplaced["taskArn"])  # never placed: STOPPED at once
    await plane.tasks.stop(None, placed["taskArn"])  # placed: STOPPED only when the agent says so
    assert await plane.tasks.forget_stopped() == 0  # within the hour
    plane.tasks.clock = lambda: datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert await plane.tasks.forget_stopped() == 1
    found, failures = await plane.tasks.describe(None, [placed["taskArn"], unplaced["taskArn"]])
    assert [t["taskArn"] for t in found] == [placed["taskArn"]]
    assert [f.arn for f in failures] == [unplaced["taskArn"]]


async def test_task_and_container_size_overrides_reserve_and_reach_the_agent(plane: Plane) -> None:
    small = await plane.instance(memory=600)
    (task,) = await plane.tasks.run(RunRequest("web", task_cpu=512, task_memory=512))
    assert (task["cpu"], task["memory"], task["instanceId"]) == ("512", "512", small)
    assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("512", "512")
    assert task["reserved"]["memory"] == 512
    (assignment,) = decoded(await plane.tasks.assignments(small))
    assert (assignment.definition.cpu, assignment.definition.memory) == ("512", "512")
    (bigger,) = await plane.tasks.run(RunRequest("web", overrides=(ContainerOverride("app", memory=128),)))
    assert bigger["reserved"]["memory"] == 128  # a container's memory override is what it reserves


async def test_start_task_pins_one_task_on_each_named_instance(plane: Plane) -> None:
    first, second = await plane.instance(), await plane.instance()
    started = await plane.tasks.run(RunRequest("web", instance_ids=(second, first)))
    assert [t["instanceId"] for t in started] == [second, first]


async def test_two_writers_placing_the_same_tasks_at_once_place_each_once(plane: Plane) -> None:
    """Found by the scrape benchmark: RunTask and the reconcile loop placed the same task, and the
    loser's compare-and-swap conflict took the reconcile loop (and the controller) down."""
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=8), family="many")))
    waiting = await plane.tasks.run(RunRequest("many", count=10))  # no instance yet: all wait
    assert not any(t["instanceId"] for t in waiting)
    await plane.instance(cpu=4096, memory=4096)
    counts = await asyncio.gather(*(plane.tasks.place_pending("default") for _ in range(4)))
    placed = [t for t in await plane.tasks.in_cluster("default") if t["instanceId"]]
    assert len(placed) == 10
    assert sum(counts) >= 10  # a writer that lost a race reports the task it found placed


async def test_the_task_definitions_placement_constraints_apply_as_in_ecs(plane: Plane) -> None:
    pinned = taskdef(
        container("app", memory=8),
        family="pinned",
        placementConstraints=[{"type": "memberOf", "expression": "attribute:stack == prod"}],
    )
    await plane.taskdefs.register(parse_task_definition(pinned))
    await plane.instance()  # no stack attribute
    (waiting,) = await plane.tasks.run(RunRequest("pinned"))
    assert not waiting["instanceId"]
    assert "memberOf placement constraint" in waiting["placementReason"]
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    prod = Registration("default", 1024, 1024, attributes={"stack": "prod"})
    registered = await plane.instances.register(prod, token=token)
    assert await plane.tasks.place_pending("default") == 1
    (placed,), _ = await plane.tasks.describe(None, [waiting["taskArn"]])
    assert placed["instanceId"] == registered.instance["instanceId"]
