"""ECS service operations: CreateService, UpdateService, DescribeServices, ListServices, DeleteService."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from minecs.api.ecs.common import Body, Context, failures, operation, references, scanned, short_id, tagged
from minecs.api.members import member, required_str, str_list
from minecs.controlplane.clusters import Failure
from minecs.errors import NotFoundError
from minecs.model.codec import encode
from minecs.model.service import DeploymentConfiguration
from minecs.scheduling.launch import launch_type_of
from minecs.validation.report import decode_or_raise
from minecs.validation.service import parse_service


@operation("CreateService")
async def create_service(ctx: Context, body: Body) -> Body:
    return {"service": await ctx.plane.services.create(parse_service(body))}


@operation("UpdateService")
async def update_service(ctx: Context, body: Body) -> Body:
    raw = member(body, "deploymentConfiguration", dict)
    configuration = (
        encode(decode_or_raise(DeploymentConfiguration, raw, "deploymentConfiguration")) if raw else None
    )
    service = await ctx.plane.services.update(
        member(body, "cluster", str),
        required_str(body, "service"),
        desired_count=member(body, "desiredCount", int),
        task_definition=member(body, "taskDefinition", str),
        force_new_deployment=bool(member(body, "forceNewDeployment", bool)),
        deployment_configuration=configuration,
        enable_execute_command=member(body, "enableExecuteCommand", bool),
    )
    return {"service": service}


@operation("DescribeServices", read_only=True)
async def describe_services(ctx: Context, body: Body) -> Body:
    wanted = references(body, "services", most=10)
    cluster = member(body, "cluster", str)
    await ctx.plane.clusters.get_active(cluster)  # ClusterNotFoundException first, as ECS
    tags = "TAGS" in str_list(body, "include")
    found, missing = [], []
    for reference in wanted:
        try:
            found.append(tagged(await ctx.plane.services.get(cluster, reference), tags))
        except NotFoundError:
            missing.append(Failure(_service_arn(ctx, cluster, reference)))
    return {"services": found, "failures": failures(missing)}


@operation("ListServices", read_only=True)
async def list_services(ctx: Context, body: Body) -> Body:
    cluster = (await ctx.plane.clusters.get_active(member(body, "cluster", str)))["clusterName"]
    strategy = member(body, "schedulingStrategy", str)
    launch = member(body, "launchType", str)

    def keep(service: Mapping[str, Any]) -> str | None:
        chosen = (
            service["status"] == "ACTIVE"  # a deleted (DRAINING) service is no longer listed, as in ECS
            and (strategy is None or service.get("schedulingStrategy", "REPLICA") == strategy)
            and (launch is None or launch_type_of(service) == launch)
        )
        return str(service["serviceArn"]) if chosen else None

    return await scanned(partial(ctx.plane.services.scan, cluster), keep, body, "serviceArns")


@operation("DeleteService")
async def delete_service(ctx: Context, body: Body) -> Body:
    service = await ctx.plane.services.delete(
        member(body, "cluster", str), required_str(body, "service"), force=bool(member(body, "force", bool))
    )
    return {"service": service}


def _service_arn(ctx: Context, cluster: str | None, reference: str) -> str:
    if reference.startswith("arn:"):
        return reference
    identity = ctx.plane.identity
    return f"arn:aws:ecs:{identity.region}:{identity.account}:service/{short_id(cluster or 'default')}/{reference}"
