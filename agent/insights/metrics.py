"""Container Insights for this host as Prometheus metrics, and the agent's own health (docs/metrics.md).

A scrape has two halves. On the event loop, ``task_views`` copies what it needs from the engine's
records into frozen views (pure; no I/O). In a worker thread, ``collect`` reads the kernel for every
running container (``agent.insights.kernelstats``) and builds the metric families afresh, so a stopped task's
series are gone at the next scrape and no Docker API call is made. The endpoint and the agent's own
health metrics are in ``agent.insights.server``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.insights import kernelstats
from agent.insights.exposition import Family
from agent.insights.kernelstats import CgroupDirs
from minecs.model.reservation import container_size, task_size
from minecs.model.task import KnownStatus, TaskAssignment, TaskSnapshot, TaskStatus, service_of
from minecs.model.taskdef import NetworkMode

TASK_LABELS = ("cluster_name", "service_name", "task_definition_family", "task_id")
CONTAINER_LABELS = (*TASK_LABELS, "container_name")
INSTANCE_LABELS = ("cluster_name", "container_instance_id")
MIB = 1 << 20
NETWORK = (  # (metric name part, kernelstats.Interface field)
    ("receive_bytes", "rx_bytes"),
    ("receive_packets", "rx_packets"),
    ("receive_errors", "rx_errors"),
    ("receive_packets_dropped", "rx_dropped"),
    ("transmit_bytes", "tx_bytes"),
    ("transmit_packets", "tx_packets"),
    ("transmit_errors", "tx_errors"),
    ("transmit_packets_dropped", "tx_dropped"),
)
HEALTH_STATES = ("HEALTHY", "UNHEALTHY", "UNKNOWN")


@dataclass(frozen=True)
class ContainerView:
    name: str
    runtime_id: str
    pid: int
    image: str
    restarts: int
    health: str
    cpu_reserved_vcpus: float | None
    memory_reserved_bytes: int | None


@dataclass(frozen=True)
class TaskView:
    labels: tuple[str, str, str, str]
    task_arn: str
    revision: int
    known_status: str
    desired_status: str
    networked: bool
    """bridge or awsvpc: the containers have their own network namespace to read."""
    cpu_units: int
    """What the task reserves (task cpu, else its containers'); 0 when nothing."""
    memory_mib: int
    containers: tuple[ContainerView, ...]


@dataclass(frozen=True)
class InstanceView:
    cluster: str
    instance_id: str
    cpu_vcpus: float
    memory_bytes: int
    connected: bool


# ---------------------------------------------------------------------------------------- on the loop
def task_views(
    tasks: Mapping[str, tuple[TaskAssignment, TaskSnapshot | None]], pids: Mapping[str, int]
) -> list[TaskView]:
    """Every task not yet STOPPED, with what a scrape reports about it (pure)."""
    return [
        _task_view(assignment, snapshot, pids)
        for assignment, snapshot in tasks.values()
        if snapshot is None or snapshot.last_status is not TaskStatus.STOPPED
    ]


def _task_view(a: TaskAssignment, snapshot: TaskSnapshot | None, pids: Mapping[str, int]) -> TaskView:
    td = a.definition
    service = service_of(a.group)
    cpu, memory = task_size(td, a.overrides)
    containers = []
    for c in snapshot.containers if snapshot else ():
        definition = next(d for d in td.container_definitions if d.name == c.name)
        c_cpu, c_memory = container_size(definition, a.override_for(c.name))
        running = c.known_status is KnownStatus.RUNNING and c.runtime_id is not None
        containers.append(
            ContainerView(
                name=c.name,
                runtime_id=c.runtime_id or "",
                pid=pids.get(c.runtime_id or "", 0) if running else 0,
                image=c.image or "",
                restarts=c.restart_count,
                health=c.health_status.value,
                cpu_reserved_vcpus=c_cpu / 1024 if c_cpu else None,
                memory_reserved_bytes=c_memory * MIB if c_memory else None,
            )
        )
    return TaskView(
        labels=(a.cluster, service, td.family, a.task_id),
        task_arn=a.task_arn,
        revision=td.revision,
        known_status=snapshot.last_status.value if snapshot else "PROVISIONING",
        desired_status=a.desired_status.value,
        networked=td.network_mode in (NetworkMode.BRIDGE, NetworkMode.AWSVPC),
        cpu_units=cpu,
        memory_mib=memory,
        containers=tuple(containers),
    )


# ------------------------------------------------------------------------------------ in a thread
class DirCache:
    """Cgroup directories by (container id, pid): found once per container start, not per scrape.

    ``root`` and ``proc`` are where the cgroup and proc file systems are (fixture trees in tests)."""

    def __init__(self, root: Path = kernelstats.CGROUP_ROOT, proc: Path = kernelstats.PROC) -> None:
        self.root, self.proc = root, proc
        self._dirs: dict[tuple[str, int], CgroupDirs] = {}

    def get(self, runtime_id: str, pid: int) -> CgroupDirs:
        key = (runtime_id, pid)
        if key not in self._dirs:
            self._dirs[key] = kernelstats.locate(pid, self.root, self.proc)
        return self._dirs[key]

    def keep(self, live: set[tuple[str, int]]) -> None:
        for key in set(self._dirs) - live:
            del self._dirs[key]


class _Families:
    """The scrape's metric families by name, each created on first use (so only used ones appear)."""

    def __init__(self) -> None:
        self._made: dict[str, Family] = {}

    def gauge(self, name: str, doc: str, labels: tuple[str, ...]) -> Family:
        return self._family(name, "gauge", doc, labels)

    def counter(self, name: str, doc: str, labels: tuple[str, ...]) -> Family:
        return self._family(name, "counter", doc, labels)

    def _family(self, name: str, kind: str, doc: str, labels: tuple[str, ...]) -> Family:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = Family(name, kind, doc, labels)
        return made

    def __iter__(self) -> Iterator[Family]:
        return iter(self._made.values())


def collect(tasks: list[TaskView], instance: InstanceView, cache: DirCache) -> tuple[list[Family], int]:
    """The families of one scrape, and how many containers could not be read (they just exited)."""
    families, errors, live = _Families(), 0, set()
    for task in tasks:
        _task_families(families, task, instance)
        namespaces: dict[int, dict[str, kernelstats.Interface]] = {}
        for container in task.containers:
            labels = (*task.labels, container.name)
            _container_families(families, task, container, labels)
            if not container.pid:
                continue
            live.add((container.runtime_id, container.pid))
            try:
                _kernel_families(families, task, container, labels, cache=cache, namespaces=namespaces)
            except (OSError, ValueError, KeyError):
                errors += 1
        if namespaces:
            _network(families, "ecs_task", TASK_LABELS, task.labels, _summed(namespaces.values()))
    cache.keep(live)
    _instance_families(families, tasks, instance)
    return list(families), errors


def _task_families(families: _Families, task: TaskView, instance: InstanceView) -> None:
    # Container Insights falls back to the instance's capacity when the task reserves nothing.
    families.gauge(
        "ecs_task_cpu_reserved_vcpus", "CPU the task reserves (CpuReserved / 1024).", TASK_LABELS
    ).add(task.labels, task.cpu_units / 1024 if task.cpu_units else instance.cpu_vcpus)
    families.gauge(
        "ecs_task_memory_reserved_bytes", "Memory the task reserves (MemoryReserved).", TASK_LABELS
    ).add(task.labels, task.memory_mib * MIB if task.memory_mib else instance.memory_bytes)
    info = (*TASK_LABELS, "task_arn", "task_definition_revision", "known_status", "desired_status")
    families.gauge("ecs_task_info", "A task on this instance (value 1).", (*info, "launch_type")).add(
        (*task.labels, task.task_arn, str(task.revision), task.known_status, task.desired_status, "EXTERNAL"),
        1,
    )


def _container_families(
    families: _Families, task: TaskView, c: ContainerView, labels: tuple[str, ...]
) -> None:
    info = (*CONTAINER_LABELS, "task_arn", "task_definition_revision", "image", "container_id")
    families.gauge("ecs_container_info", "A task container (value 1).", info).add(
        (*labels, task.task_arn, str(task.revision), c.image, c.runtime_id), 1
    )
    families.counter(
        "ecs_container_restarts", "Restarts by the container's restart policy.", CONTAINER_LABELS
    ).add(labels, c.restarts)
    health = families.gauge(
        "ecs_container_health_status",
        "1 for the container's health status (UNHEALTHY is UnHealthyContainerHealthStatus).",
        (*CONTAINER_LABELS, "status"),
    )
    for status in HEALTH_STATES:
        health.add((*labels, status), 1 if c.health == status else 0)
    if c.cpu_reserved_vcpus is not None:
        families.gauge(
            "ecs_container_cpu_reserved_vcpus", "The container's cpu / 1024.", CONTAINER_LABELS
        ).add(labels, c.cpu_reserved_vcpus)
    if c.memory_reserved_bytes is not None:
        families.gauge(
            "ecs_container_memory_reserved_bytes",
            "The container's memoryReservation, else its memory.",
            CONTAINER_LABELS,
        ).add(labels, c.memory_reserved_bytes)


def _kernel_families(
    families: _Families,
    task: TaskView,
    c: ContainerView,
    labels: tuple[str, ...],
    *,
    cache: DirCache,
    namespaces: dict[int, dict[str, kernelstats.Interface]],
) -> None:
    dirs = cache.get(c.runtime_id, c.pid)
    cpu = kernelstats.cpu_seconds(dirs)
    memory = kernelstats.memory(dirs)
    read, write = kernelstats.storage_bytes(dirs)
    network = kernelstats.network(c.pid, cache.proc) if task.networked else None
    families.counter(
        "ecs_container_cpu_usage_seconds", "CPU time used (rate x 1024 = CPU units).", CONTAINER_LABELS
    ).add(labels, cpu)
    families.gauge(
        "ecs_container_memory_utilized_bytes",
        "Memory used less page cache (MemoryUtilized; v1: usage - cache, v2: usage - inactive_file).",
        CONTAINER_LABELS,
    ).add(labels, memory.utilized)
    families.gauge(
        "ecs_container_memory_usage_bytes", "Memory charged to the container's cgroup.", CONTAINER_LABELS
    ).add(labels, memory.usage)
    if memory.limit is not None:
        families.gauge(
            "ecs_container_memory_limit_bytes", "The container's cgroup memory limit.", CONTAINER_LABELS
        ).add(labels, memory.limit)
    families.counter(
        "ecs_container_storage_read_bytes", "Bytes read from block devices.", CONTAINER_LABELS
    ).add(labels, read)
    families.counter(
        "ecs_container_storage_write_bytes", "Bytes written to block devices.", CONTAINER_LABELS
    ).add(labels, write)
    if network is not None:
        namespace, interfaces = network
        namespaces[namespace] = interfaces
        _network(families, "ecs_container", CONTAINER_LABELS, labels, interfaces)


def _network(
    families: _Families,
    prefix: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    interfaces: Mapping[str, kernelstats.Interface],
) -> None:
    for part, field in NETWORK:
        family = families.counter(
            f"{prefix}_network_{part}",
            f"Network {part.replace('_', ' ')} per interface.",
            (*names, "interface"),
        )
        for name, counters in interfaces.items():
            family.add((*labels, name), getattr(counters, field))


def _summed(namespaces: Iterable[Mapping[str, kernelstats.Interface]]) -> dict[str, kernelstats.Interface]:
    """The task's traffic per interface name: bridge containers each have an ``eth0`` of their own."""
    total: dict[str, kernelstats.Interface] = {}
    for interfaces in namespaces:
        for name, counters in interfaces.items():
            before = total.get(name)
            total[name] = (
                counters
                if before is None
                else kernelstats.Interface(
                    *(
                        a + b
                        for a, b in zip(
                            dataclasses.astuple(before), dataclasses.astuple(counters), strict=True
                        )
                    )
                )
            )
    return total


def _instance_families(families: _Families, tasks: list[TaskView], instance: InstanceView) -> None:
    labels = (instance.cluster, instance.instance_id)
    running = [t for t in tasks if t.known_status == TaskStatus.RUNNING.value]
    reserved_cpu = sum(t.cpu_units for t in tasks) / 1024
    reserved_memory = sum(t.memory_mib for t in tasks) * MIB
    for name, doc, value in (
        ("cpu_registered_vcpus", "CPU the agent registered.", instance.cpu_vcpus),
        (
            "cpu_remaining_vcpus",
            "Registered CPU less the tasks' reservations.",
            instance.cpu_vcpus - reserved_cpu,
        ),
        ("memory_registered_bytes", "Memory the agent registered.", instance.memory_bytes),
        (
            "memory_remaining_bytes",
            "Registered memory less the tasks' reservations.",
            instance.memory_bytes - reserved_memory,
        ),
        ("running_tasks", "Tasks RUNNING on this instance.", len(running)),
        ("agent_connected", "1 while the controller answers the agent.", int(instance.connected)),
    ):
        families.gauge(f"ecs_container_instance_{name}", doc, INSTANCE_LABELS).add(labels, value)
    by_status = Counter(t.known_status for t in tasks)
    gauge = families.gauge("minecs_agent_tasks", "Tasks the agent holds, by last status.", ("status",))
    for status in TaskStatus:
        if status is not TaskStatus.STOPPED:
            gauge.add((status.value,), by_status.get(status.value, 0))
