"""What a task reserves on its instance (ECS's accounting), and its stored form.

Pure: from a task definition, RunTask's overrides and the task's group to a ``Need`` that
``placement.place`` weighs against what an instance has left; the cpu/memory arithmetic is
``minecs.model.reservation`` (the agent's metrics use it too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from minecs.model.reservation import task_size
from minecs.model.task import ContainerOverride
from minecs.model.taskdef import NetworkMode, TaskDefinition
from minecs.scheduling.placement import Need


def need_of(td: TaskDefinition, group: str, overrides: Sequence[ContainerOverride] = ()) -> Need:
    """What a task reserves on its instance, as ECS accounts it (container overrides included).

    ``td`` already carries any task-level cpu/memory override (``with_task_size``)."""
    cpu, memory = task_size(td, overrides)
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
