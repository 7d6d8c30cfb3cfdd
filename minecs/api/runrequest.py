"""A RunTask/StartTask request body (ECS's members) read into a ``RunRequest``, for both front ends.

The native ``POST /v1/tasks`` and the ECS ``RunTask``/``StartTask`` take the same body, so they read
it here, once: ``taskDefinition``, ``cluster``, ``count``, ``overrides`` (container overrides and the
task-level ``cpu``/``memory``), ``startedBy``, ``group``, ``tags``, ``placementStrategy``,
``placementConstraints``, ``enableExecuteCommand``, the launch members (``launchType``,
``capacityProviderStrategy``, ``platformVersion``, ``networkConfiguration``) and, for StartTask,
``containerInstances``.
Every member is read through ``minecs.api.members``, so a problem is a ClientException naming the
member's path (``overrides.containerOverrides[0].name``). ECS's limits hold: ``overrides`` at most
8192 characters, tags as on every resource (``validation.task.check_tags``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from minecs.api.bodies import printable
from minecs.api.members import member, objects, required_str, str_list
from minecs.controlplane.requests import MAX_COUNT, RunRequest, decode_placement
from minecs.errors import ClientError, InvalidParameterError
from minecs.model.service import CapacityProviderStrategyItem
from minecs.model.task import ContainerOverride
from minecs.model.taskdef import Tag
from minecs.model.units import parse_cpu, parse_memory
from minecs.model.wire import ecs_override_from_json
from minecs.scheduling.launch import LaunchRequest, check_request
from minecs.validation.report import decode_or_raise
from minecs.validation.task import tags_or_raise

MAX_OVERRIDES = 8192
"""ECS: "A total of 8192 characters are allowed for overrides", JSON formatting included (compact here)."""


def run_request(body: Mapping[str, Any]) -> RunRequest:
    count = member(body, "count", int)
    instances = str_list(body, "containerInstances")
    if not 1 <= (len(instances) or (1 if count is None else count)) <= MAX_COUNT:
        raise InvalidParameterError(f"count must be between 1 and {MAX_COUNT}.")
    overrides = member(body, "overrides", dict) or {}
    if len(json.dumps(overrides, separators=(",", ":"), ensure_ascii=False)) > MAX_OVERRIDES:
        raise InvalidParameterError(f"Container Overrides length must be at most {MAX_OVERRIDES}")
    tags = tags_or_raise(tuple(decode_or_raise(Tag, t, path) for path, t in objects(body, "tags")))
    return RunRequest(
        task_definition=required_str(body, "taskDefinition"),
        cluster=member(body, "cluster", str),
        count=1 if count is None else count,
        overrides=_container_overrides(overrides),
        started_by=member(body, "startedBy", str),
        group=member(body, "group", str),
        tags=tags,
        instance_ids=tuple(i.rsplit("/", 1)[-1] for i in instances),
        task_cpu=_size(overrides.get("cpu"), parse_cpu, "overrides.cpu"),
        task_memory=_size(overrides.get("memory"), parse_memory, "overrides.memory"),
        strategies=tuple(_placement(body, "placementStrategy", "field")),
        constraints=tuple(_placement(body, "placementConstraints", "expression")),
        enable_execute_command=bool(member(body, "enableExecuteCommand", bool)),
        launch=launch_request(body),
    )


def launch_request(body: Mapping[str, Any]) -> LaunchRequest:
    """``launchType``, ``capacityProviderStrategy``, ``platformVersion`` and ``networkConfiguration``,
    type-checked; their rules are the launch's (``minecs.scheduling.launch.resolve``)."""
    strategy = tuple(
        decode_or_raise(CapacityProviderStrategyItem, item, path)
        for path, item in objects(body, "capacityProviderStrategy")
    )
    network = member(body, "networkConfiguration", dict)
    awsvpc = member(network, "awsvpcConfiguration", dict, path="networkConfiguration") if network else None
    if awsvpc is not None:
        str_list(awsvpc, "subnets", path="networkConfiguration.awsvpcConfiguration")
        str_list(awsvpc, "securityGroups", path="networkConfiguration.awsvpcConfiguration")
    request = LaunchRequest(
        launch_type=member(body, "launchType", str),
        strategy=strategy,
        platform_version=member(body, "platformVersion", str),
        network=network,
    )
    check_request(request)
    return request


def _container_overrides(overrides: Mapping[str, Any]) -> tuple[ContainerOverride, ...]:
    """Each ``containerOverrides`` item, every member type-checked before the override is built."""
    found = []
    for path, raw in objects(overrides, "containerOverrides", path="overrides"):
        required_str(raw, "name", path=path)
        if raw.get("command") is not None:
            str_list(raw, "command", path=path)
        for pair_path, pair in objects(raw, "environment", path=path):
            required_str(pair, "name", path=pair_path)
            required_str(pair, "value", path=pair_path)
        for name in ("cpu", "memory", "memoryReservation"):
            member(raw, name, int, path=path)
        found.append(ecs_override_from_json(raw))
    return tuple(found)


def _size(raw: Any, parse: Callable[[str], int | None], path: str) -> int | None:
    if raw is None:
        return None
    value = parse(str(raw)) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    if value is None or value <= 0:
        raise ClientError(f"{path}: {printable(repr(raw))} is not a valid size.")
    return value


def _placement(body: Mapping[str, Any], name: str, detail: str) -> list[Any]:
    """``placementStrategy`` (``type``, ``field``) or ``placementConstraints`` (``type``, ``expression``)."""
    items = objects(body, name)
    for path, item in items:
        required_str(item, "type", path=path)
        member(item, detail, str, path=path)
    raw = [item for _, item in items]
    try:
        strategies, constraints = decode_placement(
            {"strategies": raw if detail == "field" else [], "constraints": raw if detail != "field" else []}
        )
    except ValueError as exc:
        raise InvalidParameterError(f"{name}: {exc}") from exc
    return strategies if detail == "field" else constraints
