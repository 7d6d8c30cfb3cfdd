"""A RunTask/StartTask request body (ECS's members) read into a ``RunRequest``, for both front ends.

The native ``POST /v1/tasks`` and the ECS ``RunTask``/``StartTask`` take the same body, so they read
it here, once: ``taskDefinition``, ``cluster``, ``count``, ``overrides`` (container overrides and the
task-level ``cpu``/``memory``), ``startedBy``, ``group``, ``tags``, ``placementStrategy``,
``placementConstraints``, ``enableExecuteCommand`` and, for StartTask, ``containerInstances``. Every problem is a
ClientException naming the member.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from minecs.controlplane.tasks import MAX_COUNT, RunRequest, decode_placement
from minecs.errors import ClientError, InvalidParameterError
from minecs.model.task import ContainerOverride
from minecs.model.taskdef import Tag
from minecs.model.units import parse_cpu, parse_memory
from minecs.model.wire import ecs_override_from_json
from minecs.validation.report import decode_or_raise


def run_request(body: Mapping[str, Any]) -> RunRequest:
    if not isinstance(body.get("taskDefinition"), str):
        raise ClientError("taskDefinition: is required.")
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool):
        raise ClientError("count: must be an integer.")
    instances = body.get("containerInstances") or []
    if not isinstance(instances, list) or not all(isinstance(i, str) for i in instances):
        raise ClientError("containerInstances: must be a list of container instance ids or ARNs.")
    if not 1 <= (len(instances) or count) <= MAX_COUNT:
        raise InvalidParameterError(f"count must be between 1 and {MAX_COUNT}.")
    overrides = body.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ClientError("overrides: must be an object.")
    strategies, constraints = _placement(body)
    enable_exec = body.get("enableExecuteCommand", False)
    if not isinstance(enable_exec, bool):
        raise ClientError("enableExecuteCommand: must be true or false.")
    return RunRequest(
        task_definition=body["taskDefinition"],
        cluster=_optional_str(body, "cluster"),
        count=count,
        overrides=_container_overrides(overrides),
        started_by=_optional_str(body, "startedBy"),
        group=_optional_str(body, "group"),
        tags=tuple(decode_or_raise(Tag, t, f"tags[{i}]") for i, t in enumerate(body.get("tags") or [])),
        instance_ids=tuple(i.rsplit("/", 1)[-1] for i in instances),
        task_cpu=_size(overrides.get("cpu"), parse_cpu, "overrides.cpu"),
        task_memory=_size(overrides.get("memory"), parse_memory, "overrides.memory"),
        strategies=tuple(strategies),
        constraints=tuple(constraints),
        enable_execute_command=enable_exec,
    )


def _optional_str(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ClientError(f"{name}: must be a string.")
    return value


def _container_overrides(overrides: Mapping[str, Any]) -> tuple[ContainerOverride, ...]:
    try:
        return tuple(ecs_override_from_json(o) for o in overrides.get("containerOverrides") or [])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ClientError(f"overrides.containerOverrides: malformed: {exc!r}") from exc


def _size(raw: Any, parse: Callable[[str], int | None], path: str) -> int | None:
    if raw is None:
        return None
    value = parse(str(raw))
    if value is None or value <= 0:
        raise ClientError(f"{path}: {raw!r} is not a valid size.")
    return value


def _placement(body: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    raw = {
        "strategies": body.get("placementStrategy") or [],
        "constraints": body.get("placementConstraints") or [],
    }
    try:
        return decode_placement(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidParameterError(f"placementStrategy/placementConstraints: not valid: {exc!r}") from exc
