"""Rules on how containers refer to each other: dependsOn, links and volumesFrom, and cycles.

The container graph has an edge T -> D when T must wait for D: D in T's ``dependsOn`` (its
condition), T links to D (START), or T takes volumes from D (CREATE, the agent's internal
condition). ``edges`` is shared with the agent's ordering logic, so the graph validated here is the
graph the agent runs.

Exact ECS strings used here: ``Cannot depend on container + '<name>' because it does not exist``,
``A dependency container with SUCCESS or COMPLETE condition cannot be an essential container``,
``Container links should not have a cycle``, and the agent's ``could not find container for link``,
``could not find volume source container with name`` and ``invalid link format``. Choice: a cycle
that involves dependsOn or volumesFrom is reported as ``Container dependencies should not have a
cycle: a -> b -> a`` (ECS has no documented message for it), naming the cycle.

Not checked here, because ECS does not refuse it at RegisterTaskDefinition: a HEALTHY dependency on
a container without a healthCheck. The ECS agent finds at run time that it can never resolve and
stops the task; minecs's agent does the same (``agent.tasks.ordering``).
"""

from __future__ import annotations

from dataclasses import dataclass

from minecs.model.containerdef import ContainerCondition, ContainerDefinition
from minecs.model.taskdef import NetworkMode, TaskDefinitionSpec
from minecs.validation.report import Report, container_path

CREATE = "CREATE"  # the agent's internal condition for volumesFrom


@dataclass(frozen=True, slots=True)
class Edge:
    """``target`` waits for ``dependency`` to reach ``condition``; ``via`` says which member said so."""

    target: str
    dependency: str
    condition: str
    via: str


def link_target(link: str) -> str | None:
    """The container a ``links`` entry names (``name`` or ``name:alias``); None when malformed."""
    parts = link.split(":")
    if len(parts) > 2 or not parts[0]:
        return None
    return parts[0]


def edges(spec: TaskDefinitionSpec) -> list[Edge]:
    """Every dependency edge in the task, explicit and implicit."""
    found: list[Edge] = []
    for c in spec.container_definitions:
        name = c.name or ""
        found += [Edge(name, d.container_name, d.condition.value, "dependsOn") for d in c.depends_on]
        found += [
            Edge(name, target, ContainerCondition.START.value, "links")
            for link in c.links
            if (target := link_target(link)) is not None
        ]
        found += [
            Edge(name, v.source_container, CREATE, "volumesFrom")
            for v in c.volumes_from
            if v.source_container
        ]
    return found


def check_references(spec: TaskDefinitionSpec, report: Report) -> None:
    containers = {c.name: c for c in spec.container_definitions if c.name}
    for index, c in enumerate(spec.container_definitions):
        for i, dep in enumerate(c.depends_on):
            _check_dependency(
                index,
                i=i,
                name=dep.container_name,
                condition=dep.condition,
                containers=containers,
                report=report,
            )
        for i, link in enumerate(c.links):
            path = container_path(index, f"links[{i}]")
            if spec.network_mode is not NetworkMode.BRIDGE:
                report.add(path, f"Links are not supported when networkMode={spec.network_mode.value}.")
            target = link_target(link)
            if target is None:
                report.add(path, f"invalid link format: '{link}' (use 'name' or 'name:alias')")
            elif target not in containers:
                report.add(path, f"could not find container for link {link}")
        for i, source in enumerate(c.volumes_from):
            path = container_path(index, f"volumesFrom[{i}].sourceContainer")
            if not source.source_container or source.source_container not in containers:
                report.add(
                    path, f"could not find volume source container with name {source.source_container}"
                )


def _check_dependency(
    index: int,
    *,
    i: int,
    name: str,
    condition: ContainerCondition,
    containers: dict[str, ContainerDefinition],
    report: Report,
) -> None:
    path = container_path(index, f"dependsOn[{i}]")
    dependency = containers.get(name)
    if dependency is None:
        report.add(
            f"{path}.containerName", f"Cannot depend on container + '{name}' because it does not exist"
        )
        return
    if condition in (ContainerCondition.SUCCESS, ContainerCondition.COMPLETE) and dependency.essential:
        report.add(
            f"{path}.condition",
            "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container",
        )


def check_cycles(spec: TaskDefinitionSpec, report: Report) -> None:
    graph: dict[str, list[Edge]] = {}
    for edge in edges(spec):
        graph.setdefault(edge.target, []).append(edge)
    cycle = _find_cycle(graph)
    if cycle is None:
        return
    names = [e.target for e in cycle] + [cycle[0].target]
    if all(e.via == "links" for e in cycle):
        report.add("containerDefinitions", f"Container links should not have a cycle: {' -> '.join(names)}")
    else:
        report.add(
            "containerDefinitions", f"Container dependencies should not have a cycle: {' -> '.join(names)}"
        )


def _find_cycle(graph: dict[str, list[Edge]]) -> list[Edge] | None:
    """One cycle as its edges in order, by depth-first search; None for an acyclic graph."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        stack: list[Edge] = []
        on_path: dict[str, int] = {start: 0}
        cycle = _walk(start, graph, stack, on_path, done)
        if cycle is not None:
            return cycle
    return None


def _walk(
    node: str, graph: dict[str, list[Edge]], stack: list[Edge], on_path: dict[str, int], done: set[str]
) -> list[Edge] | None:
    for edge in graph.get(node, ()):
        if edge.dependency in on_path:
            return [*stack[on_path[edge.dependency] :], edge]
        if edge.dependency in done:
            continue
        stack.append(edge)
        on_path[edge.dependency] = len(stack)
        cycle = _walk(edge.dependency, graph, stack, on_path, done)
        if cycle is not None:
            return cycle
        stack.pop()
        del on_path[edge.dependency]
    done.add(node)
    return None
