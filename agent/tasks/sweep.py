"""What ``minecs down`` removes once the agent has exited: its tasks' containers and task volumes.

A running agent removes a stopped task's containers (the pause container too) and its task-scoped
volumes when the cleanup wait has passed (``agent.engine.cleanup_wait``, ECS's
ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION, three hours by default), so a stopped task's containers stay
in ``docker ps -a`` for that long. ``down`` ends the host's tasks for good, so it does the agent's
cleanup at once (a wait of 0) from the agent's saved state (``agent.tasks.state``), the record a
restarted agent would clean up from, and then empties that record, as the agent forgets a task it
cleaned up. A container the state does not name (one being created when the agent was killed) is
found by the instance's label. Shared volumes (``scope: shared``) are not the task's and stay, as
``docker compose down`` keeps named volumes.

Design decision: the sweep never runs beside a live agent on the same data directory (``down``
waits for the daemon to exit first), so the saved state is exactly what the agent left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.provision.cgroups import remove_task_cgroup
from agent.runtime.base import Driver
from agent.tasks.state import STATE_VERSION, StateFile
from minecs.errors import ContainerNotFoundError, DriverError
from minecs.logs import get_logger

log = get_logger(__name__)
STATE_NAME = "agent-state.json"
INSTANCE_LABEL = "minecs.instance-id"


@dataclass(frozen=True)
class Swept:
    """What the sweep removed, and the containers of the instance it could not remove."""

    tasks: int
    containers: int
    volumes: int
    left: tuple[str, ...]


async def sweep(driver: Driver, agent_dir: Path) -> Swept:
    """Remove every container and task volume the agent of ``agent_dir`` made, then forget its tasks."""
    state_file = StateFile(agent_dir / STATE_NAME)
    state = state_file.load()
    tasks: list[dict[str, Any]] = state["tasks"]
    containers = volumes = 0
    for task in tasks:
        containers += await _remove_containers(driver, _container_ids(task))
        volumes += await _remove_volumes(driver, task["resources"]["taskVolumes"])
        if (task.get("context") or {}).get("cgroupParent"):
            await remove_task_cgroup(str(task["assignment"]["taskArn"]).rsplit("/", 1)[-1])
    instance = state.get("instanceId")
    left: tuple[str, ...] = ()
    if instance:
        stray = [c.id for c in await driver.find({INSTANCE_LABEL: instance})]
        containers += await _remove_containers(driver, stray)
        left = tuple(c.name for c in await driver.find({INSTANCE_LABEL: instance}))
    if tasks:
        forgotten: dict[str, Any] = {"version": STATE_VERSION, "instanceId": instance, "tasks": []}
        await state_file.save(json.dumps(forgotten))
    return Swept(len(tasks), containers, volumes, left)


def _container_ids(task: dict[str, Any]) -> list[str]:
    ids = [record.get("runtimeId") for record in task["containers"].values()]
    ids.append(task["resources"].get("pauseId"))
    return [i for i in ids if i]


async def _remove_containers(driver: Driver, ids: list[str]) -> int:
    removed = 0
    for container_id in ids:
        try:
            await driver.remove(container_id, force=True)
            removed += 1
        except ContainerNotFoundError:
            pass  # removed already (by the agent's own cleanup, or by hand)
        except DriverError as exc:
            log.warning("container removal failed", container=container_id, error=exc.message)
    return removed


async def _remove_volumes(driver: Driver, names: list[str]) -> int:
    removed = 0
    for name in names:
        try:
            if await driver.volume_exists(name):
                await driver.remove_volume(name)
                removed += 1
        except DriverError as exc:
            log.warning("task volume removal failed", volume=name, error=exc.message)
    return removed
