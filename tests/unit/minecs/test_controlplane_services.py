"""REPLICA services on a real store, with agent reports simulated: scale, replace, roll, steady state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minecs.controlplane.instances import Registration
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from minecs.errors import ClientError, InvalidParameterError, NotFoundError
from minecs.model.service import ServiceSpec
from minecs.validation import parse_task_definition
from minecs.validation.service import parse_service
from tests.taskdefs import container, taskdef

LONG_AGO = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    opened = await ControlPlane.open(tmp_path, Identity())
    await opened.taskdefs.register(parse_task_definition(taskdef(container("app", memory=64))))
    token = await opened.instances.tokens.create(now=datetime.now(UTC))
    await opened.instances.register(Registration("default", 4096, 4096), token=token)
    yield opened
    await opened.close()


def spec(desired: int = 2, **members: Any) -> ServiceSpec:
    return parse_service({"serviceName": "web", "taskDefinition": "web", "desiredCount": desired, **members})


async def agent_reports(
    plane: ControlPlane,
    status: str = "RUNNING",
    *,
    only: set[str] | None = None,
    health: str = "UNKNOWN",
    started_at: str = LONG_AGO,
) -> None:
    """What the agent would report for every placed, unstopped task (healthy by the 40 s rule)."""
    for task in await plane.tasks.in_cluster("default"):
        if (
            not task["instanceId"]
            or task["lastStatus"] == "STOPPED"
            or (only and task["taskArn"] not in only)
        ):
            continue
        desired = "STOPPED" if status == "STOPPED" or task["desiredStatus"] == "STOPPED" else "RUNNING"
        final = "STOPPED" if desired == "STOPPED" else status
        await plane.tasks.report(
            task["instanceId"],
            {
                "taskArn": task["taskArn"],
                "seq": task["seq"] + 1,
                "lastStatus": final,
                "desiredStatus": desired,
                "healthStatus": health,
                "stopCode": task.get("stopCode"),
                "stoppedReason": task.get("stoppedReason"),
                "startedAt": started_at,
                "containers": [],
            },
        )


async def with_health_checks(plane: ControlPlane) -> None:
    """Make ``web`` a task definition with a health check, and add an instance able to run it."""
    checked = container("app", memory=64, healthCheck={"command": ["CMD", "true"]})
    await plane.taskdefs.register(parse_task_definition(taskdef(checked)))
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    capable = Registration("default", 4096, 4096, attributes={"ecs.capability.container-health-check": ""})
    await plane.instances.register(capable, token=token)


async def live(plane: ControlPlane) -> list[dict[str, Any]]:
    return [dict(t) for t in await plane.tasks.in_cluster("default") if t["desiredStatus"] == "RUNNING"]


async def test_a_service_reaches_its_desired_count_and_a_steady_state(plane: ControlPlane) -> None:
    created = await plane.services.create(spec())
    assert created["serviceArn"] == "arn:aws:ecs:us-east-1:000000000000:service/default/web"
    assert created["deployments"][0]["status"] == "PRIMARY"
    await plane.services.reconcile("default/web")
    tasks = await live(plane)
    assert len(tasks) == 2
    assert {t["group"] for t in tasks} == {"service:web"}
    assert {t["startedBy"] for t in tasks} == {created["deployments"][0]["id"]}
    await agent_reports(plane)
    await plane.services.reconcile("default/web")
    service = await plane.services.get(None, "web")
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    messages = [e["message"] for e in service["events"]]
    assert messages[0] == "(service web) has reached a steady state."
    assert messages[-1].startswith("(service web) has started 2 tasks: (task ")
    await plane.services.reconcile("default/web")
    assert len((await plane.services.get(None, "web"))["events"]) == len(
        messages
    )  # no repeats when nothing changes


async def test_a_stopped_task_is_replaced_and_scale_in_stops_extras(plane: ControlPlane) -> None:
    await plane.services.create(spec(3))
    await plane.services.reconcile("default/web")
    await agent_reports(plane)
    victim = (await live(plane))[0]["taskArn"]
    await agent_reports(plane, "STOPPED", only={victim})
    await plane.services.reconcile("default/web")
    assert len(await live(plane)) == 3
    await agent_reports(plane)
    await plane.services.update(None, "web", desired_count=1)
    await plane.services.reconcile("default/web")
    remaining = await live(plane)
    assert len(remaining) == 1
    stopped = [
        t for t in await plane.tasks.in_cluster("default") if t["stopCode"] == "ServiceSchedulerInitiated"
    ]
    assert len(stopped) == 2
    assert stopped[0]["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/")


async def test_a_new_revision_rolls_within_max_150_and_min_50(plane: ControlPlane) -> None:
    await plane.services.create(
        spec(4, deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50})
    )
    await plane.services.reconcile("default/web")
    await agent_reports(plane)
    await plane.services.reconcile("default/web")
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=96))))
    updated = await plane.services.update(None, "web", task_definition="web")
    assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
    for _ in range(8):
        await plane.services.reconcile("default/web")
        tasks = await live(plane)
        assert len(tasks) <= 6  # floor(4 * 150%)
        await agent_reports(plane)
        healthy = [t for t in await live(plane) if t["lastStatus"] == "RUNNING"]
        assert len(healthy) >= 2  # ceil(4 * 50%)
    service = await plane.services.get(None, "web")
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
    assert service["deployments"][0]["taskDefinition"].endswith("task-definition/web:2")
    assert service["runningCount"] == 4


async def test_an_update_inside_the_healthy_delay_stops_no_task_until_new_ones_are_healthy(
    plane: ControlPlane,
) -> None:
    """Tasks that RUNNING for less than 40 s are not proven healthy, but they serve: a second update
    then must not stop them all at once (issue 15: the service went to 0 and stayed there)."""
    await plane.services.create(spec(3))
    await plane.services.reconcile("default/web")
    await agent_reports(plane, started_at=datetime.now(UTC).isoformat())
    first = await live(plane)
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=96))))
    await plane.services.update(None, "web", task_definition="web")
    for _ in range(3):
        await plane.services.reconcile("default/web")
        await agent_reports(plane, started_at=datetime.now(UTC).isoformat())
    still = {t["taskArn"] for t in await live(plane)}
    assert {t["taskArn"] for t in first} <= still  # none of the first three was stopped
    assert len(still) == 6  # the three new ones run beside them, within maximumPercent 200


async def test_duplicates_and_unknown_services(plane: ControlPlane) -> None:
    first = await plane.services.create(spec())
    assert await plane.services.create(spec()) == first  # a retry gets the service it made
    with pytest.raises(InvalidParameterError, match=r"^Creation of service was not idempotent\.$"):
        await plane.services.create(spec(desired=3))
    with pytest.raises(NotFoundError) as caught:
        await plane.services.get(None, "nope")
    assert caught.value.code == "ServiceNotFoundException"


async def fail_to_start(plane: ControlPlane, deployment: str) -> int:
    """The agent reports the deployment's placed tasks STOPPED, never having run."""
    count = 0
    for task in await plane.tasks.in_cluster("default"):
        if task.get("startedBy") != deployment or task["lastStatus"] == "STOPPED" or not task["instanceId"]:
            continue
        await plane.tasks.report(
            task["instanceId"],
            {
                "taskArn": task["taskArn"],
                "seq": task["seq"] + 1,
                "lastStatus": "STOPPED",
                "desiredStatus": "STOPPED",
                "healthStatus": "UNKNOWN",
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Essential container in task exited",
                "containers": [],
            },
        )
        count += 1
    return count


async def test_circuit_breaker_fails_the_deployment_and_rolls_back(plane: ControlPlane) -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    await plane.services.create(spec(2, deploymentConfiguration=breaker))
    await plane.services.reconcile("default/web")
    await agent_reports(plane)
    await plane.services.reconcile("default/web")
    good = await plane.services.get(None, "web")
    assert good["deployments"][0]["rolloutState"] == "COMPLETED"
    good_tasks = await live(plane)
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=65))))
    bad = (await plane.services.update(None, "web", task_definition="web"))["deployments"][0]
    tripped: list[Any] = []
    while not tripped:
        await plane.services.reconcile("default/web")
        await fail_to_start(plane, bad["id"])
        service = await plane.services.get(None, "web")
        tripped = [
            d for d in service["deployments"] if d["id"] == bad["id"] and d["rolloutState"] == "FAILED"
        ]
    (failed,) = tripped
    assert failed["failedTasks"] >= 3  # the threshold for 2 tasks; tasks fail in batches, so it may pass it
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    primary = service["deployments"][0]
    assert primary["taskDefinition"].endswith("task-definition/web:1")
    # ECS rolls back to the last COMPLETED deployment itself: the same id, its tasks kept.
    assert (primary["id"], primary["status"]) == (good["deployments"][0]["id"], "PRIMARY")
    messages = [e["message"] for e in service["events"]]
    assert f"(service web) (deployment {bad['id']}) deployment failed: tasks failed to start." in messages
    assert f"(service web) rolling back to deployment {primary['id']}." in messages
    for _ in range(3):
        await plane.services.reconcile("default/web")
        await agent_reports(plane)
    settled = await plane.services.get(None, "web")
    assert [d["status"] for d in settled["deployments"]] == ["PRIMARY"]
    assert settled["deployments"][0]["rolloutState"] == "COMPLETED"
    assert settled["runningCount"] == 2
    kept = [t for t in await live(plane) if t["startedBy"] == primary["id"]]
    assert len(kept) == 2  # the two tasks that served before the bad deploy, never replaced
    assert {t["taskArn"] for t in kept} == {t["taskArn"] for t in good_tasks}


async def test_without_rollback_a_failed_deployment_launches_nothing_more(plane: ControlPlane) -> None:
    await plane.services.create(
        spec(2, deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    )
    first = (await plane.services.get(None, "web"))["deployments"][0]
    for _ in range(6):
        await plane.services.reconcile("default/web")
        await fail_to_start(plane, first["id"])
    service = await plane.services.get(None, "web")
    assert service["deployments"][0]["rolloutState"] == "FAILED"
    launched = [t for t in await plane.tasks.in_cluster("default") if t.get("startedBy") == first["id"]]
    await plane.services.reconcile("default/web")
    assert len(
        [t for t in await plane.tasks.in_cluster("default") if t.get("startedBy") == first["id"]]
    ) == len(launched)


async def test_a_daemon_service_runs_one_task_per_instance_and_replaces_in_place(plane: ControlPlane) -> None:
    token = await plane.instances.tokens.create(now=datetime.now(UTC))
    await plane.instances.register(Registration("default", 4096, 4096), token=token)
    created = await plane.services.create(
        parse_service({"serviceName": "agentd", "taskDefinition": "web", "schedulingStrategy": "DAEMON"})
    )
    assert created["deploymentConfiguration"] == {"maximumPercent": 100, "minimumHealthyPercent": 0}
    await plane.services.reconcile("default/agentd")
    tasks = await live(plane)
    assert len(tasks) == 2
    assert len({t["instanceId"] for t in tasks}) == 2
    await agent_reports(plane)
    await plane.services.reconcile("default/agentd")
    service = await plane.services.get(None, "agentd")
    assert (service["desiredCount"], service["runningCount"]) == (2, 2)
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=80))))
    await plane.services.update(None, "agentd", task_definition="web")
    await plane.services.reconcile("default/agentd")  # stops the old task on each instance first
    await agent_reports(plane)
    await plane.services.reconcile("default/agentd")  # then starts the new ones
    await agent_reports(plane)
    await plane.services.reconcile("default/agentd")
    final = await plane.services.get(None, "agentd")
    running = await live(plane)
    assert len(running) == 2
    assert {t["taskDefinitionArn"].rsplit(":", 1)[-1] for t in running} == {"2"}
    assert final["deployments"][0]["rolloutState"] == "COMPLETED"


async def test_an_unhealthy_task_is_stopped_with_ecs_reason_and_replaced_at_once(plane: ControlPlane) -> None:
    await plane.services.create(spec(2))
    await plane.services.reconcile("default/web")
    await agent_reports(plane)
    sick = (await live(plane))[0]
    await agent_reports(plane, only={sick["taskArn"]}, health="UNHEALTHY")
    await plane.services.reconcile("default/web")
    (stopped,) = (await plane.tasks.describe(None, [sick["taskArn"]]))[0]
    assert (stopped["desiredStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "ServiceSchedulerInitiated",
        "Task failed container health checks",
    )
    replacements = await live(plane)
    assert len(replacements) == 2
    assert sick["taskArn"] not in {t["taskArn"] for t in replacements}
    messages = [e["message"] for e in (await plane.services.get(None, "web"))["events"]]
    task_id = sick["taskArn"].rsplit("/", 1)[-1]
    assert f"(service web) (task {task_id}) failed container health checks." in messages
    assert f"(service web) has stopped 1 running tasks: (task {task_id})." in messages


async def test_tasks_failing_health_checks_trip_the_breaker_stage_two(plane: ControlPlane) -> None:
    await with_health_checks(plane)
    await plane.services.create(
        spec(2, deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    )
    for _ in range(4):
        await plane.services.reconcile("default/web")
        await agent_reports(plane, health="UNHEALTHY")  # they run, then fail their checks
        await plane.services.reconcile("default/web")
        await agent_reports(plane, "STOPPED")
    deployment = (await plane.services.get(None, "web"))["deployments"][0]
    assert deployment["rolloutState"] == "FAILED"
    assert deployment["failedTasks"] >= 3


async def test_tasks_that_keep_failing_to_start_back_off_the_launches(plane: ControlPlane) -> None:
    now = [datetime.now(UTC)]
    plane.services.scheduler.clock = plane.tasks.clock = lambda: now[0]
    await plane.services.create(spec(1))
    primary = (await plane.services.get(None, "web"))["deployments"][0]["id"]
    for _ in range(3):
        await plane.services.reconcile("default/web")
        assert await fail_to_start(plane, primary) == 1
    await plane.services.reconcile("default/web")
    assert await live(plane) == []  # held: the third failure in a row started the back-off
    messages = [e["message"] for e in (await plane.services.get(None, "web"))["events"]]
    assert messages[0] == "(service web) is unable to consistently start tasks successfully."
    now[0] += timedelta(seconds=11)  # the first pause is launch_backoff (10 s by default)
    await plane.services.reconcile("default/web")
    assert len(await live(plane)) == 1
    assert await fail_to_start(plane, primary) == 1
    now[0] += timedelta(seconds=11)  # the next pause is twice as long
    await plane.services.reconcile("default/web")
    assert await live(plane) == []
    now[0] += timedelta(seconds=10)
    await plane.services.reconcile("default/web")
    assert len(await live(plane)) == 1


async def test_scale_to_zero_then_delete_drains_and_frees_the_name(plane: ControlPlane) -> None:
    await plane.services.create(spec(2))
    await plane.services.reconcile("default/web")
    await agent_reports(plane)
    with pytest.raises(
        InvalidParameterError, match=r"^The service cannot be stopped while it is scaled above 0\.$"
    ):
        await plane.services.delete(None, "web")
    await plane.services.update(None, "web", desired_count=0)
    await plane.services.reconcile("default/web")
    assert await live(plane) == []
    await agent_reports(plane)
    await plane.services.reconcile("default/web")
    zero = await plane.services.get(None, "web")
    assert (zero["runningCount"], zero["events"][0]["message"]) == (
        0,
        "(service web) has reached a steady state.",
    )
    assert (await plane.services.delete(None, "web"))["status"] == "DRAINING"
    await plane.services.reconcile("default/web")
    assert (await plane.services.get(None, "web"))["status"] == "INACTIVE"
    assert await plane.services.in_cluster("default") == []
    assert (await plane.services.create(spec(1)))["status"] == "ACTIVE"


async def test_force_delete_stops_every_task_before_the_service_is_inactive(plane: ControlPlane) -> None:
    await plane.services.create(spec(2))
    await plane.services.reconcile("default/web")
    await agent_reports(plane)
    draining = await plane.services.delete(None, "web", force=True)
    assert (draining["status"], draining["desiredCount"]) == ("DRAINING", 0)
    await plane.services.reconcile("default/web")
    assert await live(plane) == []
    assert (await plane.services.get(None, "web"))["status"] == "DRAINING"  # tasks still stopping
    with pytest.raises(ClientError) as caught:
        await plane.services.update(None, "web", desired_count=3)
    assert caught.value.code == "ServiceNotActiveException"
    await agent_reports(plane)
    await plane.services.reconcile("default/web")
    assert (await plane.services.get(None, "web"))["status"] == "INACTIVE"


async def test_a_task_with_a_health_check_is_healthy_only_when_its_checks_say_so(plane: ControlPlane) -> None:
    """Running for minutes is not enough when an essential container has a health check (ECS's rule)."""
    await with_health_checks(plane)
    await plane.services.create(spec(1))
    await plane.services.reconcile("default/web")
    await agent_reports(plane)  # RUNNING since five minutes, health still UNKNOWN (checks starting)
    await plane.services.reconcile("default/web")
    assert (await plane.services.get(None, "web"))["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    await agent_reports(plane, health="HEALTHY")
    await plane.services.reconcile("default/web")
    assert (await plane.services.get(None, "web"))["deployments"][0]["rolloutState"] == "COMPLETED"


async def test_enable_execute_command_reaches_the_tasks_launched_after_it_is_set(plane: ControlPlane) -> None:
    """As ECS: the service's flag is copied onto each task it launches; an update affects new tasks."""
    await plane.services.create(spec(1, enableExecuteCommand=True))
    await plane.services.reconcile("default/web")
    (first,) = await live(plane)
    assert first["enableExecuteCommand"] is True
    await plane.services.update(None, "web", desired_count=2, enable_execute_command=False)
    await plane.services.reconcile("default/web")
    flags = {t["taskArn"]: t["enableExecuteCommand"] for t in await live(plane)}
    assert flags.pop(first["taskArn"]) is True  # a running task keeps what it was launched with
    assert list(flags.values()) == [False]


async def test_a_service_launches_more_than_runtasks_ten_at_once(plane: ControlPlane) -> None:
    """Found by the scale-out benchmark: 0 -> 40 failed every pass with RunTask's count limit."""
    await plane.services.create(spec(40))
    await plane.services.reconcile("default/web")
    assert len(await live(plane)) == 40


async def test_a_huge_desired_count_launches_only_what_can_be_placed(plane: ControlPlane) -> None:
    """Issue 15: desiredCount 10^9 made 16,798 PENDING tasks in 21 s. ECS's quota bounds desiredCount
    at the API (5,000); within it, a service launches no more than it can place, plus one that waits."""
    await plane.taskdefs.register(parse_task_definition(taskdef(container("app", memory=1024), family="big")))
    await plane.services.create(spec(5000, taskDefinition="big"))
    for _ in range(3):
        await plane.services.reconcile("default/web")
        await agent_reports(plane)
    tasks = await live(plane)
    room = 4096 // 1024  # the instance's memory over the task's
    assert len(tasks) == room + 1
    assert sum(not t["instanceId"] for t in tasks) == 1
    service = await plane.services.get(None, "web")
    assert service["events"][0]["message"] == (
        "(service web) was unable to place a task because no container instance met all of its "
        "requirements. Reason: insufficient memory."
    )
    with pytest.raises(InvalidParameterError, match="between 0 and 5000"):
        await plane.services.update(None, "web", desired_count=1_000_000_000)
