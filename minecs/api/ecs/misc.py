"""ECS agent-side calls (accepted for compatibility) and tags on clusters, task definitions, services, tasks.

``SubmitTaskStateChange`` / ``SubmitContainerStateChange`` are acknowledged and change nothing: in
minecs the agent reports over its own protocol, with sequence numbers that make replays harmless,
and a second unsequenced path would undo that. ``DiscoverPollEndpoint`` answers with this
controller's address. Tags live on the stored objects (``tags``, ECS's ``[{key, value}]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minecs.api.ecs.common import Body, Context, operation
from minecs.api.members import member, required_str, str_list
from minecs.errors import InvalidParameterError, NotFoundError
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
    kind, key = _resource(required_str(body, "resourceArn"))
    stored = await ctx.plane.store.get(kind, key)
    if stored is None:
        raise _not_found()
    return {"tags": list(stored.body.get("tags") or [])}


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
    kind, key = _resource(arn)
    if await ctx.plane.store.get(kind, key) is None:
        raise _not_found()
    await retry_update(ctx.plane.store, kind, key, change)


def _resource(arn: str) -> tuple[str, str]:
    """The stored kind and key an ECS ARN names (cluster, task definition, service or task)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ecs":
        raise InvalidParameterError(f"resourceArn: {arn!r} is not an ECS ARN.")
    kind, _, rest = parts[5].partition("/")
    if kind == "cluster":
        return "cluster", rest
    if kind == "task-definition":
        return "taskdef", rest
    if kind == "service":
        return "service", rest
    if kind == "task":
        return "task", rest.rsplit("/", 1)[-1]
    raise InvalidParameterError(f"resourceArn: tags are not supported on {kind} resources.")


def _not_found() -> NotFoundError:
    return NotFoundError("The specified resource could not be found.", code="ResourceNotFoundException")
