"""ECS cluster operations: CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster(Settings).

DescribeClusters shows the counts ECS shows (registered instances, running and pending tasks,
active services), counted by the store's status index; ``include: STATISTICS`` adds them as ``statistics`` too,
and tags are shown only with ``include: TAGS``, as in ECS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minecs.api.ecs.common import Body, Context, failures, operation, page, references, tagged
from minecs.api.members import member, required_str, str_list
from minecs.validation.service import parse_cluster, parse_cluster_settings


@operation("CreateCluster")
async def create_cluster(ctx: Context, body: Body) -> Body:
    cluster = await ctx.plane.clusters.create(parse_cluster(body))
    return {"cluster": await _shown(ctx, cluster, tags=True)}


@operation("DescribeClusters", read_only=True)
async def describe_clusters(ctx: Context, body: Body) -> Body:
    include = set(str_list(body, "include"))
    found, missing = await ctx.plane.clusters.describe(references(body, "clusters", most=100, required=False))
    shown = [await _shown(ctx, c, tags="TAGS" in include, statistics="STATISTICS" in include) for c in found]
    return {"clusters": shown, "failures": failures(missing)}


@operation("ListClusters", read_only=True)
async def list_clusters(ctx: Context, body: Body) -> Body:
    await ctx.plane.clusters.ensure_default()
    return page(sorted(await ctx.plane.clusters.list_arns()), body, "clusterArns")


@operation("DeleteCluster")
async def delete_cluster(ctx: Context, body: Body) -> Body:
    deleted = await ctx.plane.clusters.delete(required_str(body, "cluster"))
    return {"cluster": await _shown(ctx, deleted, tags=True)}


@operation("UpdateCluster")
async def update_cluster(ctx: Context, body: Body) -> Body:
    return await _settings(ctx, body, required=False)


@operation("UpdateClusterSettings")
async def update_cluster_settings(ctx: Context, body: Body) -> Body:
    return await _settings(ctx, body, required=True)


async def _settings(ctx: Context, body: Body, *, required: bool) -> Body:
    reference = required_str(body, "cluster")
    settings = parse_cluster_settings(member(body, "settings", list, required=required) or [])
    cluster = (
        await ctx.plane.clusters.update_settings(reference, settings)
        if settings
        else await ctx.plane.clusters.get_active(reference)
    )
    return {"cluster": await _shown(ctx, cluster, tags=True)}


async def _shown(ctx: Context, cluster: Mapping[str, Any], *, tags: bool, statistics: bool = False) -> Body:
    counts = await ctx.plane.clusters.counts(cluster["clusterName"])
    shown: Body = {**cluster, **counts}
    shown.setdefault("settings", [])
    if statistics:
        shown["statistics"] = [{"name": k, "value": str(v)} for k, v in counts.items()]
    return tagged(shown, tags)
