"""ECS task definition operations: Register, Describe, List (families too), Deregister, Delete."""

from __future__ import annotations

from typing import Any

from minecs.api.ecs.common import Body, Context, limit, operation, paged, position, references
from minecs.api.members import member, required_str, str_list
from minecs.errors import ClientError, InvalidParameterError
from minecs.model.codec import encode
from minecs.model.registered import to_json
from minecs.model.taskdef import TaskDefinitionStatus
from minecs.validation import parse_task_definition


@operation("RegisterTaskDefinition")
async def register_task_definition(ctx: Context, body: Body) -> Body:
    registered = await ctx.plane.taskdefs.register(parse_task_definition(body))
    return registered.body


@operation("DescribeTaskDefinition", read_only=True)
async def describe_task_definition(ctx: Context, body: Body) -> Body:
    registered = await ctx.plane.taskdefs.describe(required_str(body, "taskDefinition"))
    answer: Body = {"taskDefinition": to_json(registered.definition)}
    if "TAGS" in str_list(body, "include"):
        answer["tags"] = [encode(t) for t in registered.tags]
    return answer


@operation("ListTaskDefinitions", read_only=True)
async def list_task_definitions(ctx: Context, body: Body) -> Body:
    sort = member(body, "sort", str) or "ASC"
    if sort not in ("ASC", "DESC"):
        raise InvalidParameterError("sort must be ASC or DESC.")
    after = position(body)
    if after is not None and not _is_revision_position(after):
        raise InvalidParameterError("The nextToken is not valid.")
    arns, last = await ctx.plane.taskdefs.page_arns(
        family=member(body, "familyPrefix", str),
        status=_status(body) or TaskDefinitionStatus.ACTIVE,
        descending=sort == "DESC",
        after=(after[0], after[1]) if after is not None else None,
        limit=limit(body),
    )
    return paged(arns, "taskDefinitionArns", last)


@operation("ListTaskDefinitionFamilies", read_only=True)
async def list_task_definition_families(ctx: Context, body: Body) -> Body:
    raw = member(body, "status", str) or "ACTIVE"
    status = None if raw == "ALL" else _status(body)
    after = position(body)
    if after is not None and not isinstance(after, str):
        raise InvalidParameterError("The nextToken is not valid.")
    families, last = await ctx.plane.taskdefs.families(
        prefix=member(body, "familyPrefix", str) or "", status=status, after=after, limit=limit(body)
    )
    return paged(families, "families", last)


@operation("DeregisterTaskDefinition")
async def deregister_task_definition(ctx: Context, body: Body) -> Body:
    reference = required_str(body, "taskDefinition")
    return {"taskDefinition": to_json(await ctx.plane.taskdefs.deregister(reference.rsplit("/", 1)[-1]))}


@operation("DeleteTaskDefinitions")
async def delete_task_definitions(ctx: Context, body: Body) -> Body:
    deleted, failed = [], []
    for reference in references(body, "taskDefinitions", most=10):
        try:
            deleted.append(to_json(await ctx.plane.taskdefs.delete(reference.rsplit("/", 1)[-1])))
        except ClientError as exc:
            failed.append({"arn": reference, "reason": exc.message})
    return {"taskDefinitions": deleted, "failures": failed}


def _is_revision_position(after: Any) -> bool:
    """A ListTaskDefinitions position: [family, revision]."""
    return (
        isinstance(after, list)
        and len(after) == 2
        and isinstance(after[0], str)
        and isinstance(after[1], int)
        and not isinstance(after[1], bool)
    )


def _status(body: Body) -> TaskDefinitionStatus | None:
    raw = member(body, "status", str)
    if raw is None:
        return None
    try:
        return TaskDefinitionStatus(raw)
    except ValueError as exc:
        raise InvalidParameterError(f"status: {raw!r} is not a task definition status.") from exc
