"""ECS container instance operations: Register, Deregister, Describe, List, UpdateContainerInstancesState.

Instances normally register through the agent protocol (a token, then the instance's own
credential). ``RegisterContainerInstance`` is accepted from the admin for compatibility: it records an
instance with the given ``totalResources`` and attributes, which shows disconnected until an agent
with its identity talks to the controller. ``ListContainerInstances``'s ``filter`` takes the subset of
the cluster query language that placement understands (``attribute:name == value`` and ``in``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from minecs.api.ecs.common import (
    Body,
    Context,
    failures,
    member,
    operation,
    page,
    references,
    required_str,
    short_id,
    str_list,
)
from minecs.api.shapes import instance_shape
from minecs.controlplane.clusters import Failure
from minecs.controlplane.instances import Registration
from minecs.errors import ClientError, ExpressionError, InvalidParameterError
from minecs.model.expression import matches


@operation("RegisterContainerInstance")
async def register_container_instance(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    totals = {r.get("name"): r for r in member(body, "totalResources", list) or [] if isinstance(r, dict)}
    version = member(body, "versionInfo", dict) or {}
    attributes = {
        str(a["name"]): str(a.get("value", ""))
        for a in member(body, "attributes", list) or []
        if isinstance(a, dict) and "name" in a
    }
    registration = Registration(
        cluster=cluster,
        cpu=int(totals.get("CPU", {}).get("integerValue", 0)),
        memory=int(totals.get("MEMORY", {}).get("integerValue", 0)),
        reserved_ports=tuple(int(p) for p in totals.get("PORTS", {}).get("stringSetValue", [])),
        agent_version=str(version.get("agentVersion", "")),
        docker_version=str(version.get("dockerVersion", "")),
        attributes=attributes,
    )
    token = await ctx.plane.instances.tokens.create(now=datetime.now(UTC))
    registered = await ctx.plane.instances.register(registration, token=token)
    return {
        "containerInstance": instance_shape(await _described(ctx, cluster, registered.instance["instanceId"]))
    }


@operation("DeregisterContainerInstance")
async def deregister_container_instance(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    instance_id = short_id(required_str(body, "containerInstance"))
    shown = await _described(ctx, cluster, instance_id)
    running = shown["runningTasksCount"] + shown["pendingTasksCount"]
    await ctx.plane.instances.deregister(
        instance_id, running_tasks=running, force=bool(member(body, "force", bool))
    )
    return {"containerInstance": instance_shape(await _described(ctx, cluster, instance_id))}


@operation("DescribeContainerInstances", read_only=True)
async def describe_container_instances(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    wanted = references(body, "containerInstances", most=100)
    everything = {i["instanceId"]: i for i in await ctx.plane.tasks.described_instances(cluster)}
    found, missing = [], []
    for reference in wanted:
        instance = everything.get(short_id(reference))
        if instance is None:
            missing.append(Failure(reference))
        else:
            found.append(instance_shape(instance))
    return {"containerInstances": found, "failures": failures(missing)}


@operation("ListContainerInstances", read_only=True)
async def list_container_instances(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    status = member(body, "status", str)
    expression = member(body, "filter", str)
    chosen = []
    for instance in await ctx.plane.instances.in_cluster(cluster):
        if status is not None and instance["status"] != status:
            continue
        if status is None and instance["status"] == "INACTIVE":
            continue  # ECS lists ACTIVE and DRAINING ones unless asked
        if expression is not None and not _matches(expression, instance):
            continue
        chosen.append(instance["containerInstanceArn"])
    return page(sorted(chosen), body, "containerInstanceArns")


@operation("UpdateContainerInstancesState")
async def update_container_instances_state(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    status = required_str(body, "status")
    here = {i["instanceId"] for i in await ctx.plane.instances.in_cluster(cluster)}
    wanted, missing = [], []
    for reference in str_list(body, "containerInstances", required=True):
        if short_id(reference) in here:
            await ctx.plane.instances.set_status(short_id(reference), status)
            wanted.append(short_id(reference))
        else:
            missing.append(Failure(reference))  # unknown, or in another cluster: left untouched
    shown = {i["instanceId"]: i for i in await ctx.plane.tasks.described_instances(cluster)}
    return {"containerInstances": [instance_shape(shown[i]) for i in wanted], "failures": failures(missing)}


async def _described(ctx: Context, cluster: str, instance_id: str) -> dict[str, Any]:
    for instance in await ctx.plane.tasks.described_instances(cluster):
        if instance["instanceId"] == instance_id:
            return instance
    raise ClientError(f"Container instance {instance_id} not found in cluster {cluster}.")


def _matches(expression: str, instance: dict[str, Any]) -> bool:
    attributes = {a["name"]: a.get("value", "") for a in instance["attributes"]}
    try:
        return matches(expression, attributes)
    except ExpressionError as exc:
        raise InvalidParameterError(f"filter: {exc.message}") from exc
