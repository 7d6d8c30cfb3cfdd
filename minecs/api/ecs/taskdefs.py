"""ECS task definition operations: Register, Describe, List (families too), Deregister, Delete."""

from __future__ import annotations

from minecs.api.ecs.common import Body, Context, operation, page, references
from minecs.api.members import member, required_str, str_list
from minecs.errors import ClientError, InvalidParameterError
from minecs.model.codec import encode
from minecs.model.registered import to_json
from minecs.model.taskdef import TaskDefinitionStatus
from minecs.validation import parse_task_definition


@operation("RegisterTaskDefinition")
async def register_task_definition(ctx: Context, body: Body) -> Body:
    registered = await ctx.plane.taskdefs.register(parse_task_definition(body))
    return {"taskDefinition": to_json(registered.definition), "tags": [encode(t) for t in registered.tags]}


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
    arns = await ctx.plane.taskdefs.list_arns(
        family_prefix=member(body, "familyPrefix", str) or "",
        status=_status(body) or TaskDefinitionStatus.ACTIVE,
        descending=sort == "DESC",
    )
    return page(arns, body, "taskDefinitionArns")


@operation("ListTaskDefinitionFamilies", read_only=True)
async def list_task_definition_families(ctx: Context, body: Body) -> Body:
    raw = member(body, "status", str) or "ACTIVE"
    status = None if raw == "ALL" else _status(body)
    families = await ctx.plane.taskdefs.families(
        prefix=member(body, "familyPrefix", str) or "", status=status
    )
    return page(families, body, "families")


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


def _status(body: Body) -> TaskDefinitionStatus | None:
    raw = member(body, "status", str)
    if raw is None:
        return None
    try:
        return TaskDefinitionStatus(raw)
    except ValueError as exc:
        raise InvalidParameterError(f"status: {raw!r} is not a task definition status.") from exc
