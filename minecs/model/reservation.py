"""What a task reserves on its instance, as ECS accounts it: shared by placement and the agent's metrics.

Pure. Task-level ``cpu``/``memory``, when set, reserve the whole task; otherwise each container's
``cpu`` plus its ``memoryReservation`` (else ``memory``), with RunTask's container overrides applied.
CPU is in ECS CPU units (1024 = 1 vCPU), memory in MiB.
"""

from __future__ import annotations

from collections.abc import Sequence

from minecs.model.containerdef import ContainerDefinition
from minecs.model.task import ContainerOverride
from minecs.model.taskdef import TaskDefinition


def container_size(c: ContainerDefinition, override: ContainerOverride | None = None) -> tuple[int, int]:
    """A container's ``(cpu units, memory MiB)``: its cpu, and its soft limit else its hard limit."""
    cpu = override.cpu if override and override.cpu is not None else c.cpu
    reservation = (
        override.memory_reservation
        if override and override.memory_reservation is not None
        else c.memory_reservation
    )
    limit = override.memory if override and override.memory is not None else c.memory
    return cpu, reservation or limit or 0


def task_size(td: TaskDefinition, overrides: Sequence[ContainerOverride] = ()) -> tuple[int, int]:
    """The task's ``(cpu units, memory MiB)`` reservation (``td`` carries any task-level override)."""
    by_name = {o.name: o for o in overrides}
    sizes = [container_size(c, by_name.get(c.name or "")) for c in td.container_definitions]
    cpu = int(td.cpu) if td.cpu else sum(c for c, _ in sizes)
    memory = int(td.memory) if td.memory else sum(m for _, m in sizes)
    return cpu, memory
