"""Builders for task-definition documents in tests: a valid minimum, changed one member at a time."""

from __future__ import annotations

import copy
from typing import Any

from minecs.errors import ValidationError
from minecs.model.taskdef import TaskDefinitionSpec
from minecs.validation import parse_task_definition


def container(name: str = "app", **members: Any) -> dict[str, Any]:
    return {"name": name, "image": "minecs/busybox:latest", "memory": 64, **members}


def taskdef(*containers: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {"family": "web", "containerDefinitions": list(containers or [container()]), **members}


def problems(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(code, path, message) for every problem the document has; [] when it is valid."""
    try:
        parse_task_definition(copy.deepcopy(document))
    except ValidationError as exc:
        return [(p.code, p.path, p.message) for p in exc.problems]
    return []


def valid(document: dict[str, Any]) -> TaskDefinitionSpec:
    return parse_task_definition(copy.deepcopy(document))
