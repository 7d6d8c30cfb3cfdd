"""Why a task or a rollout is where it is, in one line, for the commands that wait on them.

A waiting command (``apply --wait``, ``run-task --wait``) ends where the user is looking, so it says
what ``describe task`` and ``events`` know: the stopped reason and stop code, each container's exit
code or error (``CannotPullContainerError: ...``), and the placement reason of a task that waits for
capacity. Pure: task and service bodies (the ECS shapes) in, text out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SHOWN = 5
"""Tasks named at most, per failure: the rest are counted."""


def task_reason(task: Mapping[str, Any]) -> str:
    """``task 1a2b STOPPED (EssentialContainerExited): Essential container in task exited; web: exit
    code 1``, or ``task 1a2b PENDING: insufficient memory``; empty when there is nothing to explain."""
    name = f"task {str(task['taskArn']).rsplit('/', 1)[-1]}"
    if task.get("lastStatus") == "STOPPED":
        code = f" ({task['stopCode']})" if task.get("stopCode") else ""
        parts = [str(task.get("stoppedReason") or "stopped"), *_container_reasons(task)]
        return f"{name} STOPPED{code}: {'; '.join(parts)}"
    placement = task.get("placementReason")
    if placement:
        return f"{name} {task.get('lastStatus', 'PENDING')}: {placement}"
    return ""


def _container_reasons(task: Mapping[str, Any]) -> list[str]:
    said = []
    for container in task.get("containers", []):
        exit_code, reason = container.get("exitCode"), container.get("reason")
        if reason:
            said.append(f"{container['name']}: {reason}")
        elif exit_code not in (None, 0):
            said.append(f"{container['name']}: exit code {exit_code}")
    return said


def reasons(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The reason of every task that has one, at most ``SHOWN`` of them and a count of the rest."""
    lines = [line for line in (task_reason(t) for t in tasks) if line]
    if len(lines) > SHOWN:
        lines = [*lines[:SHOWN], f"... and {len(lines) - SHOWN} more"]
    return lines


def rollout_line(service: Mapping[str, Any], deployment: str, tasks: Iterable[Mapping[str, Any]]) -> str:
    """``demo-web:3 2/2 new running, 1 old``: the revision being rolled out, its RUNNING tasks against
    the desired count, and the live tasks of every other deployment (as ``kubectl rollout status``)."""
    group = f"service:{service['serviceName']}"
    new = old = 0
    for task in tasks:
        if task.get("group") != group or task.get("lastStatus") == "STOPPED":
            continue
        if task.get("startedBy") == deployment:
            new += task.get("lastStatus") == "RUNNING"
        else:
            old += 1
    revision = next(
        (d["taskDefinition"] for d in service["deployments"] if d["id"] == deployment),
        service["taskDefinition"],
    )
    return f"{str(revision).rsplit('/', 1)[-1]} {new}/{service['desiredCount']} new running, {old} old"


def deployment_tasks(deployment: str, tasks: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The tasks a deployment started, newest first (a task's ``startedBy`` is its deployment's id)."""
    mine = [t for t in tasks if t.get("startedBy") == deployment]
    return sorted(mine, key=lambda t: float(t.get("createdAt") or 0), reverse=True)
