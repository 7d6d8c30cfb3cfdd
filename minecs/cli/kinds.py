"""Resource words as kubectl takes them, and task ids as docker takes them.

``get``, ``describe`` and ``delete`` accept a kind in the singular, the plural or its short name
(``svc``, ``td``, ``task``, ``ci``), and ``KIND/NAME`` in one word (``svc/demo-web``). A task is
named by its id, its ARN or any prefix of its id that only one task of the cluster has (as
``docker`` takes container ids); an ambiguous prefix is refused with the tasks it matches.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple
from urllib.parse import quote

from minecs import settings
from minecs.cli.hints import did_you_mean
from minecs.errors import MinecsError

CANONICAL = ("cluster", "taskdef", "task", "service", "instance")
PLURAL = {
    "cluster": "clusters",
    "taskdef": "taskdefs",
    "task": "tasks",
    "service": "services",
    "instance": "instances",
}
ALIASES: dict[str, str] = {
    **{k: k for k in CANONICAL},
    **{v: k for k, v in PLURAL.items()},
    "svc": "service",
    "td": "taskdef",
    "tds": "taskdef",
    "task-definition": "taskdef",
    "task-definitions": "taskdef",
    "taskdefinition": "taskdef",
    "taskdefinitions": "taskdef",
    "ci": "instance",
    "container-instance": "instance",
    "container-instances": "instance",
}
FULL_ID = 32
"""A task id is 32 hex digits."""


class Resource(NamedTuple):
    kind: str
    """One of ``CANONICAL``."""
    name: str | None
    """The NAME of ``KIND/NAME``, when the word held one."""


def resource(word: str) -> Resource:
    """An argparse ``type``: ``services``, ``svc``, ``svc/demo-web`` -> a Resource."""
    kind, _, name = word.partition("/")
    canonical = ALIASES.get(kind.lower())
    if canonical is None:
        raise argparse.ArgumentTypeError(
            f"unknown resource kind '{kind}' (kinds: {', '.join(CANONICAL)}, plurals, svc, td, ci)"
            + did_you_mean(kind, ALIASES)
        )
    return Resource(canonical, name or None)


def is_full_task_reference(word: str) -> bool:
    return "/" in word or len(word) >= FULL_ID


def match_prefix(prefix: str, ids: list[str]) -> str:
    """The one id that starts with ``prefix``; a ``LookupError`` says none or which several."""
    found = sorted({i for i in ids if i.startswith(prefix.lower())})
    if len(found) == 1:
        return found[0]
    if not found:
        raise LookupError(f"no task id starts with '{prefix}'")
    shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
    raise LookupError(f"task id prefix '{prefix}' is ambiguous: {len(found)} tasks match ({shown})")


async def resolve_task(args: argparse.Namespace, config: settings.Settings, word: str) -> str:
    """``word`` as the task id or ARN the API takes: a unique prefix becomes the whole id."""
    from minecs.cli.client import admin_call  # aiohttp: only when a command calls the controller

    if is_full_task_reference(word):
        return word
    query = f"?cluster={quote(args.cluster, safe='')}" if getattr(args, "cluster", None) else ""
    tasks = (await admin_call(args, config, "GET", f"/v1/tasks{query}", None))["tasks"]
    try:
        return match_prefix(word, [t["taskArn"].rsplit("/", 1)[-1] for t in tasks])
    except LookupError as exc:
        raise MinecsError(str(exc)) from None
