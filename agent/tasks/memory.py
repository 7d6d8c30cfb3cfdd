"""What one task's runner remembers: the part of its state that outlives the runner.

``TaskMemory`` is everything the state file saves of a task (``agent.tasks.state`` turns it to JSON
and back) and everything the runner decides from: the assignment, the desired status and stop reason,
the task's timestamps and report sequence, what provisioning made, and one record per container.
What the runner holds beyond it (its wake event, its child jobs, its last snapshot) is gone with the
process and need not be saved. Design decision: a plain mutable dataclass that the runner owns and
writes alone; nothing here knows of runners, engines or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agent.provision.containerconfig import TaskContext
from agent.provision.resources import TaskResources
from agent.tasks.records import ContainerRecord
from agent.tasks.taskstatus import last_status, task_health
from minecs.model.task import (
    TASK_TIMES,
    DesiredStatus,
    KnownStatus,
    StopCode,
    TaskAssignment,
    TaskSnapshot,
    TaskStatus,
)


@dataclass
class TaskMemory:
    assignment: TaskAssignment
    records: dict[str, ContainerRecord]
    resources: TaskResources
    desired: DesiredStatus
    context: TaskContext | None = None
    stop_code: StopCode | None = None
    stopped_reason: str | None = None
    times: dict[str, datetime | None] = field(default_factory=lambda: dict.fromkeys(TASK_TIMES))
    provision_failed: bool = False
    waiting_since: datetime | None = None
    seq: int = 0
    edits: int = 0
    """Bumped before a state write that must carry a change no report shows (``agent.tasks.state``)."""

    @property
    def task_arn(self) -> str:
        return self.assignment.task_arn


def new_memory(assignment: TaskAssignment) -> TaskMemory:
    """A task just assigned: no container made, nothing provisioned."""
    return TaskMemory(
        assignment=assignment,
        records={
            c.name or "": ContainerRecord(c, docker_name="")
            for c in assignment.definition.container_definitions
        },
        resources=TaskResources(owner=assignment.task_arn),
        desired=assignment.desired_status,
    )


def take_snapshot(memory: TaskMemory, now: datetime) -> TaskSnapshot:
    """The task as it stands (numbered with the last ``seq``), stamping the times it reaches now:
    started, execution stopped (an essential container stopped), stopped."""
    facts = [r.facts() for r in memory.records.values()]
    status = last_status(
        facts,
        stopping=memory.desired is DesiredStatus.STOPPED,
        provisioned=memory.context is not None or memory.provision_failed,
        resources_left=memory.resources.held,
    )
    times = memory.times
    if status is TaskStatus.RUNNING and times["started_at"] is None:
        times["started_at"] = now
    if times["execution_stopped_at"] is None and any(
        f.essential and f.known is KnownStatus.STOPPED for f in facts
    ):
        times["execution_stopped_at"] = now
    if status is TaskStatus.STOPPED and times["stopped_at"] is None:
        times["stopped_at"] = now
    return TaskSnapshot(
        task_arn=memory.task_arn,
        seq=memory.seq,
        last_status=status,
        desired_status=memory.desired,
        containers=tuple(r.snapshot() for r in memory.records.values()),
        health_status=task_health(facts),
        stop_code=memory.stop_code,
        stopped_reason=memory.stopped_reason,
        **times,
    )


def cleanup_left(stopped_at: datetime | None, now: datetime, wait: float) -> float:
    """Seconds until a stopped task's containers are due for removal: ``wait`` counted from its
    stoppedAt (kept in the state file), so an agent restarted now and then still cleans up on time
    instead of starting the wait again."""
    waited = (now - stopped_at).total_seconds() if stopped_at is not None else 0.0
    return max(0.0, wait - waited)
