"""ECS agent-side calls (accepted for compatibility) and tags on clusters, task definitions, services,
tasks and container instances.

``SubmitTaskStateChange`` / ``SubmitContainerStateChange`` are acknowledged and change nothing: in
minecs the agent reports over its own protocol, with sequence numbers that make replays harmless,
and a second unsequenced path would undo that. ``DiscoverPollEndpoint`` answers with this
controller's address. Tags live on the stored objects (``tags``, ECS's ``[{key, value}]``); which
error a tag call on a missing resource gets is ``_resource``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from minecs.api.ecs.common import Body, Context, operation
from minecs.api.members import member, required_str, str_list
from minecs.controlplane.clusters import DEFAULT
from minecs.controlplane.taskdefs import Registered
from minecs.errors import ClientError, EcsError, InvalidParameterError, NotFoundError
from minecs.model.taskdef import Tag
from minecs.store import retry_update
from minecs.validation.report import Report, decode_or_raise
from minecs.validation.task import check_tag_key, tags_or_raise

MAX_TAGS = 50


@operation("SubmitTaskStateChange")
async def submit_task_state_change(ctx: Context, body: Body) -> Body:
    return {"acknowledgment": "ACK"}


@operation("SubmitContainerStateChange")
async def submit_container_state_change(ctx: Context, body: Body) -> Body:
    return {"acknowledgment": "ACK"}


@operation("DiscoverPollEndpoint", read_only=True)
async def discover_poll_endpoint(ctx: Context, body: Body) -> Body:
    return {
        "endpoint": ctx.endpoint,
        "telemetryEndpoint": ctx.endpoint,
        "serviceConnectEndpoint": ctx.endpoint,
    }


@operation("ListTagsForResource", read_only=True)
async def list_tags_for_resource(ctx: Context, body: Body) -> Body:
    kind, key = await _resource(ctx, required_str(body, "resourceArn"))
    stored = await ctx.plane.store.get(kind, key)
    return {"tags": list(stored.body.get("tags") or []) if stored else []}


@operation("TagResource")
async def tag_resource(ctx: Context, body: Body) -> Body:
    raw = member(body, "tags", list, required=True) or []
    tags = tags_or_raise(tuple(decode_or_raise(Tag, t, f"tags[{i}]") for i, t in enumerate(raw)))

    def add(current: Mapping[str, Any]) -> dict[str, Any]:
        merged = {t["key"]: t for t in current.get("tags") or []}
        merged.update({t.key: {"key": t.key, "value": t.value} for t in tags})
        if len(merged) > MAX_TAGS:
            raise InvalidParameterError(f"A resource can have at most {MAX_TAGS} tags.")
        return {**current, "tags": list(merged.values())}

    await _change(ctx, required_str(body, "resourceArn"), add)
    return {}


@operation("UntagResource")
async def untag_resource(ctx: Context, body: Body) -> Body:
    keys = set(str_list(body, "tagKeys", required=True))
    report = Report()
    for index, key in enumerate(str_list(body, "tagKeys")):
        check_tag_key(key, f"tagKeys[{index}]", report)
    report.raise_if_any()
    await _change(
        ctx,
        required_str(body, "resourceArn"),
        lambda current: {**current, "tags": [t for t in current.get("tags") or [] if t["key"] not in keys]},
    )
    return {}


async def _change(ctx: Context, arn: str, change: Any) -> None:
    kind, key = await _resource(ctx, arn)
    await retry_update(ctx.plane.store, kind, key, change)


async def _resource(ctx: Context, arn: str) -> tuple[str, str]:
    """The stored kind and key of the resource ``arn`` names, or the error ECS gives for it.

    Precedence and words, for the three tag operations alike:

    * not an ECS ARN: ``InvalidParameterException`` ``The ARN provided is invalid.`` (ECS's answer
      to an ECR ARN, boto/boto3#2774);
    * a service, task or container instance ARN without its cluster (the old short format):
      ``InvalidParameterException`` ``Long arn format must be used for tagging operations``
      (quoted by reproio/ecs_deploy#49 and cloudposse's modules);
    * a cluster that never existed: ``ClusterNotFoundException`` ``Cluster not found.`` (the model
      lists it for these calls; moto answers so), before anything about the resource in it;
      a deleted (INACTIVE) one: ``InvalidParameterException`` ``The specified cluster is inactive.
      Specify an active cluster and try again.`` (terraform-provider-aws expects exactly that);
    * an unknown service: ``ServiceNotFoundException`` ``Service not found.`` Choice: no source
      shows ECS's own answer for tags; moto answers so, and it is ECS's error for a missing service
      everywhere else;
    * an unknown task: ``InvalidParameterException`` ``The referenced task was not found.`` (ECS's
      StopTask words; choice, as for services); a stopped one: ``The specified task is stopped.
      Specify a running task and try again.`` (ECS's answer to the agent, aws/amazon-ecs-agent#2789);
    * an unknown container instance: ``InvalidParameterException`` ``The referenced container
      instance was not found.`` (ours, no source found);
    * an unknown task definition: ``ClientException`` ``Unable to describe task definition.``
      (DescribeTaskDefinition's words; moto answers tags so).
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ecs":
        raise InvalidParameterError("The ARN provided is invalid.")
    kind, _, rest = parts[5].partition("/")
    if kind == "cluster":
        await _active_cluster(ctx, rest)
        return "cluster", rest
    if kind == "task-definition":
        if ":" not in rest:  # a family alone names no one revision to tag
            raise ClientError("Unable to describe task definition.")
        return "taskdef", _key_of(await ctx.plane.taskdefs.describe(rest))
    if kind not in _IN_A_CLUSTER:
        raise InvalidParameterError(f"Tags are not supported on {kind} resources.")
    cluster, _, name = rest.rpartition("/")
    if not cluster:
        raise InvalidParameterError("Long arn format must be used for tagging operations")
    await _active_cluster(ctx, cluster)
    stored_kind, missing = _IN_A_CLUSTER[kind]
    key = f"{cluster}/{name}" if kind == "service" else name
    stored = await ctx.plane.store.get(stored_kind, key)
    if stored is None or stored.cluster != cluster:
        raise missing()
    if kind == "task" and stored.body.get("lastStatus") == "STOPPED":
        raise InvalidParameterError("The specified task is stopped. Specify a running task and try again.")
    return stored_kind, key


_IN_A_CLUSTER: dict[str, tuple[str, Callable[[], EcsError]]] = {
    "service": ("service", lambda: NotFoundError("Service not found.", code="ServiceNotFoundException")),
    "task": ("task", lambda: InvalidParameterError("The referenced task was not found.")),
    "container-instance": (
        "instance",
        lambda: InvalidParameterError("The referenced container instance was not found."),
    ),
}
"""ARN kind -> (stored kind, the error for one that is not there)."""


def _key_of(registered: Registered) -> str:
    td = registered.definition
    return f"{td.family}:{td.revision}"


async def _active_cluster(ctx: Context, name: str) -> None:
    if name == DEFAULT:
        await ctx.plane.clusters.ensure_default()
        return
    stored = await ctx.plane.store.get("cluster", name)
    if stored is None:
        raise NotFoundError("Cluster not found.", code="ClusterNotFoundException")
    if stored.body["status"] != "ACTIVE":
        raise InvalidParameterError(
            "The specified cluster is inactive. Specify an active cluster and try again."
        )
