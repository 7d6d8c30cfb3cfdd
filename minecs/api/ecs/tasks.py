"""ECS task operations: RunTask, StartTask, StopTask, DescribeTasks, ListTasks.

Choice (as in ``minecs.controlplane.tasks``): a task that finds no capacity is returned PENDING and
placed when capacity appears, rather than reported in ``failures`` as ``RESOURCE:*``; an edge host
that is busy for a minute should not make a script's RunTask fail. Every launch type and capacity
provider runs on the cluster's own instances; the rules of each are ``minecs.scheduling.launch``, and
ListTasks' ``launchType`` filters by the launch type each task describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from minecs.api.ecs.common import Body, Context, failures, operation, references, scanned, short_id, tagged
from minecs.api.members import member, required_str, str_list
from minecs.api.runrequest import run_request
from minecs.errors import ClientError, InvalidParameterError
from minecs.model.service import LaunchType
from minecs.model.task import PENDING_STATUSES


@operation("RunTask")
async def run_task(ctx: Context, body: Body) -> Body:
    if body.get("containerInstances") is not None:
        raise ClientError("containerInstances: is a StartTask member, not RunTask's.")
    tasks = await ctx.plane.tasks.run(run_request(body))
    return {"tasks": tasks, "failures": []}


@operation("StartTask")
async def start_task(ctx: Context, body: Body) -> Body:
    if not str_list(body, "containerInstances", required=True):
        raise InvalidParameterError("containerInstances: at least one container instance is required.")
    tasks = await ctx.plane.tasks.run(run_request(body))
    return {"tasks": tasks, "failures": []}


@operation("StopTask")
async def stop_task(ctx: Context, body: Body) -> Body:
    task = await ctx.plane.tasks.stop(
        member(body, "cluster", str), required_str(body, "task"), member(body, "reason", str)
    )
    return {"task": task}


@operation("DescribeTasks", read_only=True)
async def describe_tasks(ctx: Context, body: Body) -> Body:
    wanted = references(body, "tasks", most=100)
    tags = "TAGS" in str_list(body, "include")
    found, missing = await ctx.plane.tasks.describe(member(body, "cluster", str), wanted)
    return {"tasks": [tagged(t, tags) for t in found], "failures": failures(missing)}


@operation("ListTasks", read_only=True)
async def list_tasks(ctx: Context, body: Body) -> Body:
    plane = ctx.plane
    cluster = (await plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    desired = member(body, "desiredStatus", str) or "RUNNING"
    if desired not in ("RUNNING", "PENDING", "STOPPED"):
        raise InvalidParameterError("desiredStatus must be RUNNING, PENDING or STOPPED.")
    service = member(body, "serviceName", str)
    if service is not None:
        await plane.services.get(cluster, service)  # ServiceNotFoundException, as ECS
    wanted = _filters(body, desired, service)

    def keep(task: Mapping[str, Any]) -> str | None:
        return str(task["taskArn"]) if all(f(task) for f in wanted) else None

    return await scanned(partial(plane.tasks.scan, cluster), keep, body, "taskArns")


def _filters(body: Body, desired: str, service: str | None) -> list[Any]:
    """Each given ListTasks filter as a predicate over a stored task."""
    instance = member(body, "containerInstance", str)
    family = member(body, "family", str)
    started_by = member(body, "startedBy", str)
    launch = member(body, "launchType", str)
    if launch is not None and launch not in set(LaunchType):
        raise InvalidParameterError(f"launchType must be one of {', '.join(LaunchType)}.")
    checks: list[Any] = [lambda t: t["desiredStatus"] == ("RUNNING" if desired == "PENDING" else desired)]
    if desired == "PENDING":
        checks.append(lambda t: t["lastStatus"] in PENDING_STATUSES)
    if instance is not None:
        checks.append(lambda t: short_id(t.get("containerInstanceArn") or "") == short_id(instance))
    if family is not None:
        checks.append(lambda t: t["taskDefinitionArn"].rsplit("/", 1)[-1].split(":")[0] == family)
    if started_by is not None:
        checks.append(lambda t: t.get("startedBy") == started_by)
    if service is not None:
        checks.append(lambda t: t.get("group") == f"service:{short_id(service)}")
    if launch is not None:
        checks.append(lambda t: t.get("launchType", "EXTERNAL") == launch)
    return checks
