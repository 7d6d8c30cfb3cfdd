"""The agent's persisted state, so that an agent restart touches no running container.

What is saved (``<data-dir>/agent-state.json``), per task: the assignment, the desired status and
stop reason, the task's timestamps and sequence number, what provisioning made (docker names, network
mode, volume sources, the pause container, task volumes, the host ports it holds) and, per container,
its docker name, id, known status, exit code, reason, health and timestamps. Secret values are never
saved; they are resolved again if a container still has to be created after a restart.

When: after every state change, and *before* every container create (the docker name is known then),
so a create in flight at a crash is found again by name (ECS does the same). Writes are atomic
(temporary file, fsync, rename) and run off the event loop; a newer snapshot of the state replaces an
older one still waiting to be written.

On start the engine restores each task: ports are claimed again, every container with an id or a name
is re-inspected (by id, else by name) and adopted as it is, never restarted or stopped. One that is
gone becomes STOPPED with ``ContainerVanishedError``; an essential container that died meanwhile
stops its task by the normal rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.provision.containerconfig import TaskContext
from agent.provision.resources import InstanceFacts, TaskResources, metadata_env, resolve_environment
from agent.provision.secrets import SecretResolver
from agent.runtime.base import PortBinding, PortProtocol
from agent.tasks.memory import TaskMemory, new_memory
from agent.tasks.records import ContainerRecord
from minecs.logs import get_logger
from minecs.model.task import DesiredStatus, HealthStatus, KnownStatus, StopCode, TaskAssignment
from minecs.model.wire import (
    assignment_from_json,
    assignment_to_json,
    binding_from_json,
    binding_to_json,
    time_from_json,
    time_to_json,
)
from minecs.settings import ProvisionSettings

log = get_logger(__name__)
STATE_VERSION = 1
_RECORD_TIMES = ("created_at", "started_at", "finished_at", "last_restart_at")
PortClaim = tuple[int, str]
"""A host port and its protocol, held by a task (``PortTable.owned_by``)."""
Claims = Callable[[str], list[PortClaim]]


class StateFile:
    """The state file, and its text.

    A write holds every task the agent knows, stopped ones too until they are cleaned up, and
    re-encoding all of them on each write took half the event loop during a scale-out. So each task's
    text is kept and made again only when the task's *revision* moved: its sequence number (every
    reported change) or its ``edits`` (bumped by the runner before the write that must carry a
    change no report shows, the docker name before a create). A change that is neither reaches the
    file with the task's next revision, or with the fresh write the engine makes when it stops.
    The assignment's text (its whole task definition) is kept apart, as it never changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._texts: dict[str, _TaskText] = {}

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"version": STATE_VERSION, "tasks": []}
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"{self.path}: not an agent state file of version {STATE_VERSION}")
        return data

    def encode(
        self, instance_id: str, tasks: Iterable[TaskMemory], claims: Claims, *, fresh: bool = False
    ) -> str:
        """The whole state as text; ``fresh`` encodes every task again, whatever its revision.
        ``claims`` gives the host ports a task holds, by task ARN."""
        texts, kept = [], {}
        for memory in tasks:
            revision = (memory.seq, memory.edits)
            cached = self._texts.get(memory.task_arn)
            if cached is None or cached.assignment is not memory.assignment:
                cached = _TaskText(memory.assignment, _dumps(assignment_to_json(memory.assignment)))
            if fresh or cached.revision != revision:
                rest = _dumps(memory_to_json(memory, claims(memory.task_arn)))
                cached.text = rest[:-1] + ',"assignment":' + cached.assignment_text + "}"
                cached.revision = revision
            kept[memory.task_arn] = cached
            texts.append(cached.text)
        self._texts = kept
        head = _dumps({"version": STATE_VERSION, "instanceId": instance_id})
        return head[:-1] + ',"tasks":[' + ",".join(texts) + "]}"

    async def save(self, text: str) -> None:
        async with self._lock:
            await asyncio.to_thread(self._write, text)

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


@dataclass
class _TaskText:
    assignment: TaskAssignment
    assignment_text: str
    revision: tuple[int, int] | None = None
    text: str = ""


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def memory_to_json(memory: TaskMemory, claims: list[PortClaim]) -> dict[str, Any]:
    """Everything of a task but its assignment, which ``StateFile.encode`` adds."""
    ctx = memory.context
    return {
        "desired": memory.desired.value,
        "stopCode": memory.stop_code.value if memory.stop_code else None,
        "stoppedReason": memory.stopped_reason,
        "times": {k: time_to_json(v) for k, v in memory.times.items()},
        "seq": memory.seq,
        "provisionFailed": memory.provision_failed,
        "waitingSince": time_to_json(memory.waiting_since),
        "context": None
        if ctx is None
        else {
            "dockerNames": dict(ctx.docker_names),
            "networkMode": ctx.network_mode,
            "volumeSources": dict(ctx.volume_sources),
            "cgroupParent": ctx.cgroup_parent,
            "ports": {
                n: [[p.container_port, p.host_port, p.protocol.value, p.host_ip] for p in ps]
                for n, ps in ctx.ports.items()
            },
        },
        "resources": {
            "pauseId": memory.resources.pause_id,
            "taskVolumes": list(memory.resources.task_volumes),
            "claims": claims,
        },
        "containers": {name: _record_to_json(r) for name, r in memory.records.items()},
    }


def _record_to_json(r: ContainerRecord) -> dict[str, Any]:
    return {
        "dockerName": r.docker_name,
        "runtimeId": r.runtime_id,
        "known": r.known.name,
        "desiredStopped": r.desired_stopped,
        "exitCode": r.exit_code,
        "reason": r.reason,
        "health": r.health.value,
        "restartCount": r.restart_count,
        "bindings": [binding_to_json(b) for b in r.bindings],
        **{t: time_to_json(getattr(r, t)) for t in _RECORD_TIMES},
    }


def memory_from_json(
    data: dict[str, Any], settings: ProvisionSettings, facts: InstanceFacts, secrets: SecretResolver | None
) -> tuple[TaskMemory, list[PortClaim]]:
    """A saved task, and the host ports it held (to be claimed again)."""
    memory = new_memory(assignment_from_json(data["assignment"]))
    memory.desired = DesiredStatus(data["desired"])
    memory.stop_code = StopCode(data["stopCode"]) if data.get("stopCode") else None
    memory.stopped_reason = data.get("stoppedReason")
    memory.times = {k: time_from_json(v) for k, v in data["times"].items()}
    memory.seq = data["seq"]
    memory.provision_failed = data["provisionFailed"]
    memory.waiting_since = time_from_json(data.get("waitingSince"))
    resources = data["resources"]
    memory.resources = TaskResources(
        owner=memory.task_arn, pause_id=resources["pauseId"], task_volumes=list(resources["taskVolumes"])
    )
    for name, saved in data["containers"].items():
        _restore_record(memory.records[name], saved)
    if data["context"] is not None:
        memory.context = _restore_context(memory, data["context"], settings, facts, secrets)
    return memory, [(port, protocol) for port, protocol in resources["claims"]]


def _restore_record(r: ContainerRecord, saved: dict[str, Any]) -> None:
    r.docker_name = saved["dockerName"]
    r.runtime_id = saved["runtimeId"]
    r.known = KnownStatus[saved["known"]]
    r.desired_stopped = saved["desiredStopped"]
    r.exit_code = saved["exitCode"]
    r.reason = saved["reason"]
    r.health = HealthStatus(saved["health"])
    r.restart_count = saved["restartCount"]
    r.bindings = tuple(binding_from_json(b) for b in saved["bindings"])
    # A create that was in flight at a crash is looked up by name; if it never happened, start over.
    if r.runtime_id is None and r.known in (KnownStatus.PULLED, KnownStatus.CREATED):
        r.known = KnownStatus.NONE
    for t in _RECORD_TIMES:
        setattr(r, t, time_from_json(saved.get(t)))


def _restore_context(
    memory: TaskMemory,
    saved: dict[str, Any],
    settings: ProvisionSettings,
    facts: InstanceFacts,
    resolver: SecretResolver | None,
) -> TaskContext:
    ports = {
        name: tuple(PortBinding(cp, hp, PortProtocol(proto), ip) for cp, hp, proto, ip in bindings)
        for name, bindings in saved["ports"].items()
    }
    file_env: dict[str, dict[str, str]] = {}
    secrets: dict[str, dict[str, str]] = {}
    if any(r.known is KnownStatus.NONE and not r.desired_stopped for r in memory.records.values()):
        # Containers that still have to be created need their environment again.
        with contextlib.suppress(Exception):
            file_env, secrets = resolve_environment(memory.assignment, resolver)
    return TaskContext(
        assignment=memory.assignment,
        instance_id=facts.instance_id,
        docker_names=saved["dockerNames"],
        network_mode=saved["networkMode"],
        ports=ports,
        volume_sources=saved["volumeSources"],
        file_env=file_env,
        secrets=secrets,
        extra_labels=facts.extra_labels,
        default_stop_timeout=settings.default_stop_timeout,
        cgroup_parent=saved.get("cgroupParent"),
        metadata_env=metadata_env(memory.assignment, facts.metadata),
    )
