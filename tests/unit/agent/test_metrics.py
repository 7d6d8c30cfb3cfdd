"""The agent's Container Insights scrape on fixture cgroup/proc trees: labels, fallbacks, no duplicates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agent.insights.exposition import render
from agent.insights.metrics import DirCache, InstanceView, collect, task_views
from agent.insights.server import AgentHealth
from minecs.model.registered import register
from minecs.model.task import (
    ContainerSnapshot,
    DesiredStatus,
    HealthStatus,
    KnownStatus,
    TaskAssignment,
    TaskSnapshot,
    TaskStatus,
)
from minecs.validation import parse_task_definition
from tests.taskdefs import container, taskdef
from tests.unit.agent.test_kernelstats import CONTAINER, NET_DEV, V1_BLKIO, V1_MEMORY_STAT, write

INSTANCE = InstanceView("default", "i-1", cpu_vcpus=2.0, memory_bytes=4 << 30, connected=True)
ARN = "arn:aws:ecs:us-east-1:0:task/default/"


def fixture_tree(root: Path, pids: dict[int, str]) -> DirCache:
    """cgroup v1 files for one container per pid, each with its own network namespace."""
    cgroup, proc = root / "cgroup", root / "proc"
    for pid, cid in pids.items():
        path = f"/docker/{cid}"
        proc_cgroup = "\n".join(
            line.replace(CONTAINER, path)
            for line in (f"4:memory:{CONTAINER}", f"2:cpuacct:{CONTAINER}", f"7:blkio:{CONTAINER}")
        )
        write(proc, {f"{pid}/cgroup": proc_cgroup + "\n", f"{pid}/net/dev": NET_DEV})
        write(
            cgroup,
            {
                f"cpuacct{path}/cpuacct.usage": f"{pid}000000000\n",
                f"memory{path}/memory.usage_in_bytes": "24023040\n",
                f"memory{path}/memory.limit_in_bytes": "67108864\n",
                f"memory{path}/memory.stat": V1_MEMORY_STAT,
                f"blkio{path}/blkio.throttle.io_service_bytes_recursive": V1_BLKIO,
            },
        )
        (proc / str(pid) / "ns").mkdir()
        (proc / str(pid) / "ns" / "net").write_text(str(pid))  # a distinct inode: its own namespace
    return DirCache(cgroup, proc)


def task(task_id: str, *, group: str | None, mode: str = "bridge", **members: object) -> TaskAssignment:
    spec = parse_task_definition(
        taskdef(
            container("app", cpu=256),
            container("log", memory=32, memoryReservation=16),
            networkMode=mode,
            **members,
        )
    )
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/web:3", revision=3, registered_at=datetime.now(UTC)
    )
    return TaskAssignment(task_arn=ARN + task_id, cluster="default", definition=td, group=group)


def snapshot(task_id: str, status: TaskStatus, runtime: dict[str, str | None]) -> TaskSnapshot:
    return TaskSnapshot(
        task_arn=ARN + task_id,
        seq=1,
        last_status=status,
        desired_status=DesiredStatus.RUNNING,
        containers=tuple(
            ContainerSnapshot(
                name=name,
                known_status=KnownStatus.RUNNING if cid else KnownStatus.STOPPED,
                desired_status=DesiredStatus.RUNNING,
                essential=True,
                runtime_id=cid,
                image="minecs/busybox:latest",
                health_status=HealthStatus.HEALTHY if name == "app" else HealthStatus.UNKNOWN,
                restart_count=2 if name == "log" else 0,
            )
            for name, cid in runtime.items()
        ),
    )


def samples(text: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in found, f"duplicate series {key}"
            found[key] = s.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    matches = [v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def test_a_scrape_reports_containers_tasks_and_the_instance(tmp_path: Path) -> None:
    cache = fixture_tree(tmp_path, {11: "aaa", 12: "bbb", 21: "ccc"})
    tasks = {
        ARN + "t1": (
            task("t1", group="service:web"),
            snapshot("t1", TaskStatus.RUNNING, {"app": "aaa", "log": "bbb"}),
        ),
        ARN + "t2": (
            task("t2", group="family:web", cpu="512", memory="128"),
            snapshot("t2", TaskStatus.RUNNING, {"app": "ccc", "log": None}),
        ),
        ARN + "t3": (task("t3", group=None), snapshot("t3", TaskStatus.STOPPED, {"app": None, "log": None})),
    }
    views = task_views(tasks, {"aaa": 11, "bbb": 12, "ccc": 21})
    families, errors = collect(views, INSTANCE, cache)
    found = samples(render(families))
    assert errors == 0
    t1 = {"task_id": "t1", "service_name": "web", "task_definition_family": "web", "cluster_name": "default"}
    assert value(found, "ecs_container_cpu_usage_seconds_total", **t1, container_name="log") == 12.0
    assert (
        value(found, "ecs_container_memory_utilized_bytes", **t1, container_name="app") == 24023040 - 22675456
    )
    assert value(found, "ecs_container_memory_limit_bytes", **t1, container_name="app") == 67108864
    assert value(found, "ecs_container_storage_read_bytes_total", **t1, container_name="app") == 5096
    assert value(found, "ecs_container_cpu_reserved_vcpus", **t1, container_name="app") == 0.25
    assert value(found, "ecs_container_memory_reserved_bytes", **t1, container_name="log") == 16 << 20
    assert value(found, "ecs_container_restarts_total", **t1, container_name="log") == 2
    assert value(found, "ecs_container_health_status", **t1, container_name="app", status="HEALTHY") == 1
    # Two bridge containers, each with an eth0 of its own: the task's eth0 is their sum.
    assert value(found, "ecs_task_network_receive_bytes_total", **t1, interface="eth0") == 2 * 123456
    assert value(found, "ecs_container_network_transmit_bytes_total", **t1, container_name="app") == 65432
    # A task without its own cpu reserves its containers' (256 units; log has none); memory 64 + 16 MiB.
    assert value(found, "ecs_task_cpu_reserved_vcpus", **t1) == 0.25
    assert value(found, "ecs_task_memory_reserved_bytes", **t1) == 80 << 20
    t2 = {"task_id": "t2", "service_name": ""}
    assert value(found, "ecs_task_cpu_reserved_vcpus", **t2) == 0.5
    assert value(found, "ecs_task_info", **t2, task_definition_revision="3", known_status="RUNNING") == 1
    # A stopped container has its info and restarts but no kernel series; a STOPPED task has none at all.
    assert value(found, "ecs_container_info", **t2, container_name="log", container_id="") == 1
    assert not [
        k
        for k in found
        if k[0] == "ecs_container_cpu_usage_seconds_total"
        and ("container_name", "log") in k[1]
        and ("task_id", "t2") in k[1]
    ]
    assert not [k for k in found if ("task_id", "t3") in k[1]]
    instance = {"container_instance_id": "i-1", "cluster_name": "default"}
    assert value(found, "ecs_container_instance_running_tasks", **instance) == 2
    assert value(found, "ecs_container_instance_cpu_remaining_vcpus", **instance) == 2.0 - 0.25 - 0.5
    assert value(found, "ecs_container_instance_memory_remaining_bytes", **instance) == (4 << 30) - (
        80 << 20
    ) - (128 << 20)
    assert value(found, "minecs_agent_tasks", status="RUNNING") == 2


def test_a_container_gone_mid_scrape_is_counted_not_fatal_and_host_tasks_have_no_network(
    tmp_path: Path,
) -> None:
    cache = fixture_tree(tmp_path, {11: "aaa"})
    tasks = {
        ARN + "t1": (
            task("t1", group=None, mode="host"),
            snapshot("t1", TaskStatus.RUNNING, {"app": "aaa", "log": "zzz"}),
        )
    }
    families, errors = collect(task_views(tasks, {"aaa": 11, "zzz": 99}), INSTANCE, cache)
    found = samples(render(families))
    assert errors == 1  # pid 99 has no files: it exited between the listing and the reading
    assert value(found, "ecs_container_cpu_usage_seconds_total", container_name="app") == 11.0
    assert not [k for k in found if "network" in k[0]]


def test_agent_health_metrics_render_on_their_own_registry() -> None:
    health = AgentHealth(CollectorRegistry())
    health.event_handled(0.002)
    health.reconciled(0.01)
    health.contact()
    health.reports_pending.set(3)
    found = samples(generate_latest(health.registry))
    assert value(found, "minecs_agent_docker_event_lag_seconds_count") == 1
    assert value(found, "minecs_agent_state_reports_pending") == 3
    assert health.connected()
