"""What a task reserves on its instance (ECS's accounting), and its stored form.

Pure: from a task definition, RunTask's overrides and the task's group to a ``Need`` that
``placement.place`` weighs against what an instance has left. Task-level cpu/memory, when set,
reserve the whole task; otherwise each container's cpu plus its memoryReservation (else memory).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from minecs.model.task import ContainerOverride
from minecs.model.taskdef import ContainerDefinition, NetworkMode, TaskDefinition
from minecs.scheduling.placement import Need


def need_of(td: TaskDefinition, group: str, overrides: Sequence[ContainerOverride] = ()) -> Need:
    """What a task reserves on its instance, as ECS accounts it (container overrides included).

    ``td`` already carries any task-level cpu/memory override (``with_task_size``)."""
    by_name = {o.name: o for o in overrides}

    def size(c: ContainerDefinition) -> tuple[int, int]:
        o = by_name.get(c.name or "")
        cpu = o.cpu if o and o.cpu is not None else c.cpu
        reservation = o.memory_reservation if o and o.memory_reservation is not None else c.memory_reservation
        limit = o.memory if o and o.memory is not None else c.memory
        return cpu, reservation or limit or 0

    sizes = [size(c) for c in td.container_definitions]
    cpu = int(td.cpu) if td.cpu else sum(c for c, _ in sizes)
    memory = int(td.memory) if td.memory else sum(m for _, m in sizes)
    ports: set[tuple[int, str]] = set()
    for c in td.container_definitions:
        for m in c.port_mappings:
            static = m.container_port if td.network_mode is NetworkMode.HOST else m.host_port
            if static and td.network_mode in (NetworkMode.HOST, NetworkMode.BRIDGE):
                ports.add((static, m.protocol.value))
    attributes = frozenset(a.name for a in td.requires_attributes)
    return Need(cpu, memory, frozenset(ports), attributes, group)


def with_task_size(td: TaskDefinition, cpu: int | None, memory: int | None) -> TaskDefinition:
    """The definition a task runs: RunTask's task-level ``overrides.cpu`` / ``overrides.memory`` applied."""
    return replace(
        td,
        cpu=str(cpu) if cpu is not None else td.cpu,
        memory=str(memory) if memory is not None else td.memory,
    )


def encode_need(need: Need) -> dict[str, Any]:
    return {
        "cpu": need.cpu,
        "memory": need.memory,
        "ports": sorted([p, proto] for p, proto in need.ports),
        "attributes": sorted(need.attributes),
    }


def decode_need(data: Mapping[str, Any], group: str = "") -> Need:
    return Need(
        cpu=data["cpu"],
        memory=data["memory"],
        ports=frozenset((p, proto) for p, proto in data["ports"]),
        attributes=frozenset(data["attributes"]),
        group=group,
    )
