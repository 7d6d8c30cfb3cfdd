"""Task-level cpu and memory limits through a per-task cgroup parent, as the ECS agent does on Linux.

Each task with a task-level ``cpu`` or ``memory`` gets the cgroup ``/ecs/<task-id>``; its containers
are created with that cgroup parent, so the limits hold for the task as a whole while each container
keeps its own share and limits inside it:

* memory -> ``memory.limit_in_bytes`` (cgroup v1) or ``memory.max`` (v2);
* cpu units -> a CFS quota of ``units / 1024`` CPUs per 100 ms period: ``cpu.cfs_quota_us`` /
  ``cpu.cfs_period_us`` (v1) or ``cpu.max`` (v2).

This needs the engine's ``cgroupfs`` driver and a writable ``/sys/fs/cgroup`` (the agent runs as root).
Fallback, documented choice: with the ``systemd`` cgroup driver, or when the hierarchy is not writable,
the task runs without task-level enforcement (each container's own limits still apply) and the agent
logs ``task cgroup not enforced`` with the reason. All file work runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from minecs.logs import get_logger

log = get_logger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
MIB = 1024 * 1024


@dataclass(frozen=True)
class TaskLimits:
    cpu_units: int | None
    memory_mib: int | None

    @property
    def any(self) -> bool:
        """Whether the task has a task-level size at all (without one there is no task cgroup)."""
        return self.cpu_units is not None or self.memory_mib is not None


def cgroup_parent(task_id: str) -> str:
    return f"/ecs/{task_id}"


def _quota(cpu_units: int) -> int:
    return max(1000, cpu_units * PERIOD_US // 1024)


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _create_v1(root: Path, task_id: str, limits: TaskLimits) -> None:
    if limits.memory_mib is not None:
        memory = root / "memory" / "ecs" / task_id
        memory.mkdir(parents=True, exist_ok=True)
        _write(memory / "memory.limit_in_bytes", str(limits.memory_mib * MIB))
    if limits.cpu_units is not None:
        cpu = root / "cpu" / "ecs" / task_id
        cpu.mkdir(parents=True, exist_ok=True)
        _write(cpu / "cpu.cfs_period_us", str(PERIOD_US))
        _write(cpu / "cpu.cfs_quota_us", str(_quota(limits.cpu_units)))


def _create_v2(root: Path, task_id: str, limits: TaskLimits) -> None:
    ecs = root / "ecs"
    ecs.mkdir(exist_ok=True)
    for parent in (root, ecs):
        _write(parent / "cgroup.subtree_control", "+cpu +memory")
    task = ecs / task_id
    task.mkdir(exist_ok=True)
    _write(task / "cgroup.subtree_control", "+cpu +memory")
    if limits.memory_mib is not None:
        _write(task / "memory.max", str(limits.memory_mib * MIB))
    if limits.cpu_units is not None:
        _write(task / "cpu.max", f"{_quota(limits.cpu_units)} {PERIOD_US}")


def _create(root: Path, task_id: str, limits: TaskLimits) -> None:
    if (root / "cgroup.controllers").exists():
        _create_v2(root, task_id, limits)
    else:
        _create_v1(root, task_id, limits)


async def create_task_cgroup(
    task_id: str, limits: TaskLimits, *, cgroup_driver: str, root: Path = CGROUP_ROOT
) -> str | None:
    """The cgroup parent for the task's containers, or None when limits cannot be enforced here."""
    if not limits.any:
        return None
    if cgroup_driver != "cgroupfs":
        log.warning("task cgroup not enforced", task_id=task_id, reason=f"cgroup driver is {cgroup_driver}")
        return None
    try:
        await asyncio.to_thread(_create, root, task_id, limits)
    except OSError as exc:
        log.warning("task cgroup not enforced", task_id=task_id, reason=str(exc))
        return None
    return cgroup_parent(task_id)


def _remove(root: Path, task_id: str) -> None:
    # v2 has one tree; v1 has one per controller, and the runtime made the task's cgroup in each.
    candidates = [root / "ecs" / task_id] + [
        ctrl / "ecs" / task_id for ctrl in root.iterdir() if ctrl.is_dir()
    ]
    for path in candidates:
        if not path.is_dir():
            continue
        # Docker leaves empty per-container cgroups behind; children go first.
        for child in sorted((p for p in path.iterdir() if p.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                child.rmdir()
        with contextlib.suppress(OSError):
            path.rmdir()


async def remove_task_cgroup(task_id: str, root: Path = CGROUP_ROOT) -> None:
    await asyncio.to_thread(_remove, root, task_id)
