"""Builders for task-definition documents in tests: a valid minimum, changed one member at a time."""

from __future__ import annotations

import copy
from typing import Any

from minecs.errors import ValidationError
from minecs.model.taskdef import TaskDefinitionSpec
from minecs.validation import parse_task_definition


def container(name: str = "app", **members: Any) -> dict[str, Any]:
    return {"name": name, "image": "minecs/busybox:latest", "memory": 64, **members}


def web(**members: Any) -> dict[str, Any]:
    """busybox httpd on 8080 from the offline image, with a health check that fetches its page."""
    return {
        "name": "web",
        "image": "minecs/busybox:latest",
        "memory": 16,
        "stopTimeout": 2,
        "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        "healthCheck": {
            "command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
            "interval": 5,
            "timeout": 2,
        },
        **members,
    }


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
