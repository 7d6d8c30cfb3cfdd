"""ECS container instance operations: Register, Deregister, Describe, List, UpdateContainerInstancesState.

Instances normally register through the agent protocol (a token, then the instance's own
credential). ``RegisterContainerInstance`` is accepted from the admin for compatibility: it records an
instance with the given ``totalResources`` and attributes, which shows disconnected until an agent
with its identity talks to the controller. ``ListContainerInstances``'s ``filter`` takes the subset of
the cluster query language that placement understands (``attribute:name == value`` and ``in``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from minecs.api.bodies import printable
from minecs.api.ecs.common import Body, Context, failures, operation, page, references, short_id
from minecs.api.members import member, objects, required_str, str_list
from minecs.controlplane.clusters import Failure
from minecs.controlplane.instances import Registration
from minecs.errors import ClientError, ExpressionError, InvalidParameterError
from minecs.model.expression import matches
from minecs.validation.network import MAX_PORT


@operation("RegisterContainerInstance")
async def register_container_instance(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    totals = {required_str(r, "name", path=path): (path, r) for path, r in objects(body, "totalResources")}
    version = member(body, "versionInfo", dict) or {}
    attributes = {
        required_str(a, "name", path=path): member(a, "value", str, path=path) or ""
        for path, a in objects(body, "attributes")
    }
    registration = Registration(
        cluster=cluster,
        cpu=_integer(totals, "CPU"),
        memory=_integer(totals, "MEMORY"),
        reserved_ports=_ports(totals),
        agent_version=member(version, "agentVersion", str, path="versionInfo") or "",
        docker_version=member(version, "dockerVersion", str, path="versionInfo") or "",
        attributes=attributes,
        ec2_instance_id=_identity_instance(member(body, "instanceIdentityDocument", str)),
    )
    token = await ctx.plane.instances.tokens.create(now=datetime.now(UTC))
    registered = await ctx.plane.instances.register(registration, token=token)
    return {"containerInstance": await _described(ctx, cluster, registered.instance["instanceId"])}


def _identity_instance(document: str | None) -> str | None:
    """The ``instanceId`` of an EC2 instance identity document (JSON; its signature is not checked:
    the caller is the admin already, and there is no EC2 to vouch for it here)."""
    if document is None:
        return None
    try:
        parsed = json.loads(document)
    except ValueError:
        parsed = None
    found = parsed.get("instanceId") if isinstance(parsed, dict) else None
    if not isinstance(found, str) or not found:
        raise InvalidParameterError("instanceIdentityDocument is not a valid instance identity document.")
    return found


Resources = dict[str, tuple[str, dict[str, Any]]]
"""``totalResources`` by name, each with its member path."""


def _integer(totals: Resources, name: str) -> int:
    path, resource = totals.get(name, ("", {}))
    value = member(resource, "integerValue", int, path=path) or 0
    if value < 0:
        raise ClientError(f"{path}.integerValue: must not be negative.")
    return value


def _ports(totals: Resources) -> tuple[int, ...]:
    path, resource = totals.get("PORTS", ("", {}))
    ports = str_list(resource, "stringSetValue", path=path)
    for index, port in enumerate(ports):
        if not (port.isdigit() and len(port) <= 5 and int(port) <= MAX_PORT):
            raise ClientError(f"{path}.stringSetValue[{index}]: {printable(port)!r} is not a port number.")
    return tuple(int(p) for p in ports)


@operation("DeregisterContainerInstance")
async def deregister_container_instance(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    instance_id = short_id(required_str(body, "containerInstance"))
    shown = await _described(ctx, cluster, instance_id)
    running = shown["runningTasksCount"] + shown["pendingTasksCount"]
    await ctx.plane.instances.deregister(
        instance_id, running_tasks=running, force=bool(member(body, "force", bool))
    )
    return {"containerInstance": await _described(ctx, cluster, instance_id)}


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
            found.append(instance)
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
    for reference in references(body, "containerInstances", most=10):
        if short_id(reference) in here:
            await ctx.plane.instances.set_status(short_id(reference), status)
            wanted.append(short_id(reference))
        else:
            missing.append(Failure(reference))  # unknown, or in another cluster: left untouched
    shown = {i["instanceId"]: i for i in await ctx.plane.tasks.described_instances(cluster)}
    return {"containerInstances": [shown[i] for i in wanted], "failures": failures(missing)}


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
