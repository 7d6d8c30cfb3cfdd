"""Rules that depend on the task's networkMode: port mappings, hostname, extraHosts.

* bridge: ``hostPort`` omitted or 0 asks for a dynamic port; a static one must be 1..65535.
* host: ``hostPort`` omitted or equal to ``containerPort`` (the host's ports are the container's).
* awsvpc: the same rule as host, plus no hostname and no extraHosts (links are checked with the graph).
* none: no port mappings at all.
* any mode: one static host port (and protocol) is mapped at most once in the task.

Exact ECS strings: ``When networkMode=awsvpc, the host ports and container ports in port mappings
must match.``, the host-mode twin, and ``Invalid 'containerPort' setting for container '<name>'.``
"""

from __future__ import annotations

import re

from minecs.model.containerdef import ContainerDefinition, PortMapping
from minecs.model.taskdef import NetworkMode, TaskDefinitionSpec
from minecs.validation.report import Report, container_path, in_range

PORT_RANGE = re.compile(r"^(\d+)-(\d+)$")
MAX_PORT = 65535

_MODE_MESSAGES = {
    NetworkMode.HOST: "When networkMode=host, the host ports and container ports in port mappings must match",
    NetworkMode.AWSVPC: (
        "When networkMode=awsvpc, the host ports and container ports in port mappings must match."
    ),
}


def check_network(spec: TaskDefinitionSpec, report: Report) -> None:
    mode = spec.network_mode
    used: dict[tuple[int, str], str] = {}
    for index, c in enumerate(spec.container_definitions):
        label = c.name or f"#{index}"
        if mode is NetworkMode.NONE and c.port_mappings:
            report.add(
                container_path(index, "portMappings"),
                "Port mappings are not supported when networkMode=none.",
            )
            continue
        if mode is NetworkMode.AWSVPC:
            _check_awsvpc_members(index, c, report)
        for j, mapping in enumerate(c.port_mappings):
            path = container_path(index, f"portMappings[{j}]")
            _check_mapping(path, mapping, label, mode, report)
            _check_duplicate(path, mapping, label, mode, used=used, report=report)


def _check_awsvpc_members(index: int, c: ContainerDefinition, report: Report) -> None:
    if c.hostname is not None:
        report.add(
            container_path(index, "hostname"),
            "The hostname parameter is not supported when networkMode=awsvpc.",
        )
    if c.extra_hosts:
        report.add(
            container_path(index, "extraHosts"),
            "The extraHosts parameter is not supported when networkMode=awsvpc.",
        )


def _check_mapping(path: str, m: PortMapping, label: str, mode: NetworkMode, report: Report) -> None:
    if m.container_port_range is not None:
        _check_range(path, m, label, mode, report)
        return
    if m.container_port is None or not in_range(m.container_port, 1, MAX_PORT):
        report.add(f"{path}.containerPort", f"Invalid 'containerPort' setting for container '{label}'.")
        return
    if m.host_port is None:
        return
    if not in_range(m.host_port, 0, MAX_PORT):
        report.add(f"{path}.hostPort", f"Invalid 'hostPort' setting for container '{label}'.")
    elif mode in _MODE_MESSAGES and m.host_port != m.container_port:
        report.add(f"{path}.hostPort", _MODE_MESSAGES[mode])


def _check_range(path: str, m: PortMapping, label: str, mode: NetworkMode, report: Report) -> None:
    text = m.container_port_range or ""
    match = PORT_RANGE.match(text)
    if m.container_port is not None or m.host_port is not None:
        report.add(
            f"{path}.containerPortRange",
            f"Invalid port mapping for container '{label}'. Set either containerPortRange or "
            "containerPort/hostPort, not both.",
        )
    elif mode not in (NetworkMode.BRIDGE, NetworkMode.AWSVPC):
        report.add(
            f"{path}.containerPortRange",
            f"containerPortRange is not supported when networkMode={mode.value}.",
        )
    elif not match or not 1 <= int(match[1]) < int(match[2]) <= MAX_PORT:
        report.add(
            f"{path}.containerPortRange",
            f"Invalid 'containerPortRange' setting for container '{label}': '{text}' is not a range "
            "like 8000-8010 within 1-65535.",
        )


def static_host_port(mapping: PortMapping, mode: NetworkMode) -> int | None:
    """The host port this mapping pins, or None when it takes a dynamic port or none at all."""
    if mode in (NetworkMode.HOST, NetworkMode.AWSVPC):
        return mapping.host_port or mapping.container_port
    if mode is NetworkMode.BRIDGE:
        return mapping.host_port or None
    return None


def _check_duplicate(
    path: str,
    m: PortMapping,
    label: str,
    mode: NetworkMode,
    *,
    used: dict[tuple[int, str], str],
    report: Report,
) -> None:
    port = static_host_port(m, mode)
    if port is None or m.container_port_range is not None:
        return
    key = (port, m.protocol.value)
    if key in used:
        report.add(
            f"{path}.hostPort",
            f"Host port {port}/{m.protocol.value} is mapped more than once in the task "
            f"(containers '{used[key]}' and '{label}').",
        )
    else:
        used[key] = label
