"""Predicates and steps over engine task snapshots, shared by the engine tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from agent.tasks.engine import Engine
from minecs.model.task import DesiredStatus, KnownStatus, TaskAssignment, TaskSnapshot, TaskStatus


def is_running(s: TaskSnapshot) -> bool:
    return s.last_status is TaskStatus.RUNNING


def is_stopped(s: TaskSnapshot) -> bool:
    return s.last_status is TaskStatus.STOPPED


def container_stopped(name: str) -> Callable[[TaskSnapshot], bool]:
    return lambda s: s.container(name).known_status is KnownStatus.STOPPED


async def stop_task(engine: Engine, task: TaskAssignment, within: float = 60) -> TaskSnapshot:
    """Ask the engine to stop the task and wait until it is STOPPED."""
    engine.apply(dataclasses.replace(task, desired_status=DesiredStatus.STOPPED))
    return await engine.wait_for(task.task_arn, is_stopped, within=within)
