"""One task's state machine: a loop that makes the task's containers match its desired status.

The loop is level-triggered. Each pass (``_step``) first folds fresh observations into the records
(containers touched by Docker events, or found changed by the engine's resync), then decides from the
records alone what to do next: provision, start what ``ordering`` allows (in parallel), give up on
what can never start, stop what the stop order allows (in parallel), release resources. Work that
talks to Docker runs as child jobs; each one wakes the loop when it ends. See docs/agent-engine.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.provision.cgroups import remove_task_cgroup
from agent.provision.containerconfig import LOCAL_LOG_DRIVERS, TaskContext, container_spec
from agent.provision.resources import (
    ResourceInitError,
    TaskResources,
    deprovision,
    provision,
    remove_task_volumes,
)
from agent.runtime.base import Health, RunState
from agent.tasks.ordering import GiveUp, Start, decide_start, may_stop
from agent.tasks.records import ContainerRecord, is_exited, reason, start_failure
from agent.tasks.taskstatus import essential_stop, last_status, task_health
from minecs.aiotasks import sleep_or_wake
from minecs.errors import ContainerNotFoundError, DriverError, ImageNotFoundError
from minecs.logs import get_logger
from minecs.model.task import (
    TASK_TIMES,
    USER_STOP_REASON,
    DesiredStatus,
    KnownStatus,
    StopCode,
    TaskAssignment,
    TaskSnapshot,
    TaskStatus,
)
from minecs.validation.graph import edges

if TYPE_CHECKING:
    from agent.tasks.engine import Engine

log = get_logger(__name__)
DEPENDENCY_EXIT_CODE = 143


class TaskRunner:
    def __init__(self, engine: Engine, assignment: TaskAssignment) -> None:
        self.engine = engine
        self.assignment = assignment
        self.task_arn = assignment.task_arn
        td = assignment.definition
        self.records = {c.name or "": ContainerRecord(c, docker_name="") for c in td.container_definitions}
        self.edges = edges(td)
        self.resources = TaskResources(owner=assignment.task_arn)
        self.context: TaskContext | None = None
        self.desired = assignment.desired_status
        self.stop_code: StopCode | None = None
        self.stopped_reason: str | None = None
        self.times: dict[str, datetime | None] = dict.fromkeys(TASK_TIMES)
        self.provision_failed = False
        self.waiting_since: datetime | None = None
        self.wake = asyncio.Event()
        self.dirty: set[str] = set()
        self.jobs: set[asyncio.Task[None]] = set()
        self.seq = 0
        self.edits = 0
        """Bumped before a state write that must carry a change no report shows (``agent.tasks.state``)."""
        self.last: TaskSnapshot | None = None
        self.cleaned = False
        if self.desired is DesiredStatus.STOPPED:
            self._want_stop(assignment.stop_code or StopCode.USER_INITIATED, assignment.stopped_reason)

    # ------------------------------------------------------------------ inputs
    def update(self, assignment: TaskAssignment) -> None:
        """A poll answer's assignment for this task. Only a stop is news: every answer repeats the
        whole set, and waking all runners on each one made a scale-out step every task N times."""
        if assignment.desired_status is DesiredStatus.STOPPED and self.desired is DesiredStatus.RUNNING:
            self._want_stop(
                assignment.stop_code or StopCode.USER_INITIATED, assignment.stopped_reason or USER_STOP_REASON
            )

    def touch(self, container: str) -> None:
        self.dirty.add(container)
        self.wake.set()

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        settings = self.engine.settings
        while True:
            self.wake.clear()
            began = time.monotonic()
            await self._step()
            self._emit()
            self.engine.observer.reconciled(time.monotonic() - began)
            if self.last is not None and self.last.last_status is TaskStatus.STOPPED and not self.jobs:
                break
            # The timer also re-checks time limits (startTimeout, the dependency wait); containers
            # are re-read when Docker says so, or when the engine's resync finds them changed.
            await sleep_or_wake(settings.resync_interval, self.wake)
        await self._cleanup_later()

    def resync(self, seen: Mapping[str, tuple[RunState, Health]]) -> None:
        """Re-read (inspect) every container whose listed state or health disagrees with its record,
        or that is gone: what a missed Docker event would have said."""
        for name, record in self.records.items():
            if record.runtime_id is None:
                continue
            listed = seen.get(record.runtime_id)
            if listed is None or not record.agrees(*listed):
                self.touch(name)

    async def _step(self) -> None:
        await self._refresh()
        if self.desired is DesiredStatus.RUNNING:
            if self.context is None and not self.provision_failed:
                await self._provision()
            if self.context is not None:
                self._start_what_may_start()
            decision = essential_stop(
                [r.facts() for r in self.records.values()], task_ran=self.times["started_at"] is not None
            )
            if decision is not None:
                self._want_stop(decision.code, decision.reason)
        if self.desired is DesiredStatus.STOPPED:
            self._stop_what_may_stop()
            if self._all_stopped() and self.resources.held and not self.jobs:
                await deprovision(self.engine.driver, self.engine.ports, self.resources)
        if self._all_stopped() and not self.jobs:
            self.engine.ports.release(self.task_arn)

    # ------------------------------------------------------------------ observing
    async def _refresh(self) -> None:
        names, self.dirty = self.dirty, set()
        for name in names:
            record = self.records.get(name)
            if record is None or not (record.runtime_id or record.docker_name):
                continue
            try:
                info = await self.engine.driver.inspect(record.runtime_id or record.docker_name)
            except ContainerNotFoundError:
                if record.runtime_id is not None:
                    record.observe_vanished(self.engine.now())
                continue
            except DriverError as exc:
                log.warning("inspect failed", task=self.task_arn, container=name, error=exc.message)
                continue
            if is_exited(info):
                if record.known is not KnownStatus.STOPPED and self._restart_if_due(record, info.exit_code):
                    continue
                record.observe_exited(info, self.engine.now())
            elif info.running:
                record.observe_running(info)
            elif record.desired_stopped:
                # Created but never started, and no longer wanted: it will never run.
                record.known = KnownStatus.STOPPED
                record.finished_at = record.finished_at or self.engine.now()
            else:
                record.observe_created(info)

    def _restart_if_due(self, record: ContainerRecord, exit_code: int | None) -> bool:
        policy = record.definition.restart_policy
        if (
            policy is None
            or not policy.enabled
            or record.desired_stopped
            or self.desired is DesiredStatus.STOPPED
        ):
            return False
        if exit_code is None or exit_code in policy.ignored_exit_codes:
            return False
        since = record.last_restart_at or record.started_at
        now = self.engine.now()
        if since is None or now - since < timedelta(seconds=policy.restart_attempt_period):
            return False
        record.restart_count += 1
        record.last_restart_at = now
        runtime_id = record.runtime_id or ""
        log.info("restarting container", task=self.task_arn, container=record.name, exit_code=exit_code)
        self._spawn(record, f"restart {record.name}", functools.partial(self.engine.driver.start, runtime_id))
        return True

    # ------------------------------------------------------------------ starting
    async def _provision(self) -> None:
        self.waiting_since = self.engine.now()
        try:
            self.context = await provision(
                self.assignment,
                driver=self.engine.driver,
                ports=self.engine.ports,
                resolver=self.engine.secrets,
                settings=self.engine.provision_settings,
                resources=self.resources,
            )
        except ResourceInitError as exc:
            self.provision_failed = True
            now = self.engine.now()
            for record in self.records.values():
                record.fail(reason("ResourceInitializationError", exc.message), now=now)
            return
        for name, record in self.records.items():
            record.docker_name = self.context.docker_names[name]
            record.bindings = self.resources.bindings.get(name, ())
            config = record.definition.log_configuration
            if config is not None and config.log_driver in LOCAL_LOG_DRIVERS:
                log.warning(
                    "log driver has no local meaning; writing json-file logs",
                    task=self.task_arn,
                    container=name,
                    log_driver=config.log_driver.value,
                )

    def _start_what_may_start(self) -> None:
        views = {name: r.view() for name, r in self.records.items()}
        now = self.engine.now()
        bound = timedelta(seconds=self.engine.settings.dependency_wait_timeout)
        for record in self.records.values():
            # CREATED and idle: the agent died between Docker's create and start; start it where it is.
            resume = record.known is KnownStatus.CREATED and record.runtime_id is not None
            if (
                (record.known is not KnownStatus.NONE and not resume)
                or record.in_flight
                or record.desired_stopped
            ):
                continue
            decision = decide_start(
                record.view(),
                views,
                self.edges,
                now=now,
                waiting_since=self.waiting_since or now,
                wait_bound=bound,
            )
            if isinstance(decision, Start) and resume:
                self._spawn(record, f"start {record.name}", functools.partial(self._start_created, record))
            elif isinstance(decision, Start):
                self._spawn(record, f"start {record.name}", functools.partial(self._start_chain, record))
            elif isinstance(decision, GiveUp):
                log.info(
                    "dependency can never be met",
                    task=self.task_arn,
                    container=record.name,
                    reason=decision.reason,
                )
                record.fail(
                    reason("CannotStartContainerError", decision.reason),
                    exit_code=DEPENDENCY_EXIT_CODE,
                    now=now,
                )

    async def _start_chain(self, record: ContainerRecord) -> None:
        driver = self.engine.driver
        assert self.context is not None
        image = record.definition.image or ""
        try:
            await self._ensure_image(image)
        except ImageNotFoundError as exc:
            record.fail(reason("CannotPullContainerError", exc.message), now=self.engine.now())
            return
        record.known = KnownStatus.PULLED
        if _abandoned(record):
            return
        spec = container_spec(record.definition, self.context)
        self.edits += 1  # the name is on disk before the create: a crash here is found again
        await self.engine.persist()
        try:
            try:
                record.runtime_id = await driver.create(spec)
            except ImageNotFoundError:
                if not self.engine.images.forget(image):
                    raise
                # Removed since the image manager saw it: ensure it again (pull if needed), once.
                try:
                    await self._ensure_image(image)
                except ImageNotFoundError as exc:
                    record.fail(reason("CannotPullContainerError", exc.message), now=self.engine.now())
                    return
                record.runtime_id = await driver.create(spec)
        except DriverError as exc:
            record.fail(reason("CannotCreateContainerError", exc.message), now=self.engine.now())
            return
        record.known = KnownStatus.CREATED
        record.created_at = self.engine.now()
        if _abandoned(record):
            return
        await self._start_created(record)

    async def _start_created(self, record: ContainerRecord) -> None:
        """The last link of the start chain, also where a restored task picks up a created container."""
        try:
            await self.engine.driver.start(record.runtime_id or "")
        except DriverError as exc:
            record.fail(
                reason("CannotStartContainerError", start_failure(exc.message)), now=self.engine.now()
            )
            return
        self.dirty.add(record.name)

    async def _ensure_image(self, image: str) -> None:
        self.times["pull_started_at"] = self.times["pull_started_at"] or self.engine.now()
        try:
            await self.engine.images.ensure(image)
        finally:
            self.times["pull_stopped_at"] = self.engine.now()

    # ------------------------------------------------------------------ stopping
    def _want_stop(self, code: StopCode, why: str | None) -> None:
        if self.desired is DesiredStatus.STOPPED and self.stop_code is not None:
            return
        self.desired = DesiredStatus.STOPPED
        self.stop_code = code
        self.stopped_reason = why or USER_STOP_REASON
        self.times["stopping_at"] = self.engine.now()
        log.info("task stopping", task=self.task_arn, stop_code=code.value, reason=self.stopped_reason)
        self.wake.set()

    def _stop_what_may_stop(self) -> None:
        views = {name: r.view() for name, r in self.records.items()}
        now = self.engine.now()
        for record in self.records.values():
            record.desired_stopped = True
            if record.known is KnownStatus.STOPPED or record.in_flight:
                continue
            if record.known < KnownStatus.RUNNING and record.runtime_id is None:
                record.known = KnownStatus.STOPPED
                record.finished_at = record.finished_at or now
                continue
            if may_stop(record.name, views, self.edges):
                grace = record.definition.stop_timeout
                grace = grace if grace is not None else self.engine.settings.default_stop_timeout
                runtime_id = record.runtime_id or ""
                self._spawn(
                    record,
                    f"stop {record.name}",
                    functools.partial(self.engine.driver.stop, runtime_id, grace),
                )

    def _all_stopped(self) -> bool:
        return all(r.known is KnownStatus.STOPPED and not r.in_flight for r in self.records.values())

    # ------------------------------------------------------------------ jobs and output
    def _spawn(
        self, record: ContainerRecord, what: str, work: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        record.in_flight = True

        async def job() -> None:
            try:
                await work()
            except ContainerNotFoundError:
                record.observe_vanished(self.engine.now())
            except DriverError as exc:
                log.warning(
                    "container operation failed", task=self.task_arn, operation=what, error=exc.message
                )
            except Exception:
                log.exception("container job crashed", task=self.task_arn, operation=what)
            finally:
                record.in_flight = False
                self.dirty.add(record.name)
                self.wake.set()

        task = asyncio.create_task(job(), name=f"{self.task_arn}: {what}")
        self.jobs.add(task)
        task.add_done_callback(self.jobs.discard)

    def _emit(self) -> None:
        facts = [r.facts() for r in self.records.values()]
        status = last_status(
            facts,
            stopping=self.desired is DesiredStatus.STOPPED,
            provisioned=self.context is not None or self.provision_failed,
            resources_left=self.resources.held,
        )
        now = self.engine.now()
        if status is TaskStatus.RUNNING and self.times["started_at"] is None:
            self.times["started_at"] = now
        if self.times["execution_stopped_at"] is None and any(
            f.essential and f.known is KnownStatus.STOPPED for f in facts
        ):
            self.times["execution_stopped_at"] = now
        if status is TaskStatus.STOPPED and self.times["stopped_at"] is None:
            self.times["stopped_at"] = now
        snapshot = TaskSnapshot(
            task_arn=self.task_arn,
            seq=self.seq,
            last_status=status,
            desired_status=self.desired,
            containers=tuple(r.snapshot() for r in self.records.values()),
            health_status=task_health(facts),
            stop_code=self.stop_code,
            stopped_reason=self.stopped_reason,
            **self.times,
        )
        if self.last is not None and dataclasses.replace(snapshot, seq=self.last.seq) == self.last:
            return
        self.seq += 1
        self.last = dataclasses.replace(snapshot, seq=self.seq)
        self.engine.publish(self.last)

    async def _cleanup_later(self) -> None:
        """Remove the stopped task's containers and task volumes after the cleanup wait."""
        await asyncio.sleep(self.engine.settings.cleanup_wait)
        for record in self.records.values():
            if record.runtime_id:
                try:
                    await self.engine.driver.remove(record.runtime_id, force=True)
                except DriverError as exc:
                    log.info("container cleanup skipped", container=record.docker_name, error=exc.message)
        await remove_task_volumes(self.engine.driver, self.resources)
        if self.context is not None and self.context.cgroup_parent:
            await remove_task_cgroup(self.assignment.task_id)
        self.cleaned = True
        log.info("task cleaned up", task=self.task_arn)


def _abandoned(record: ContainerRecord) -> bool:
    """Checked between the awaits of a start chain: the task may have been told to stop meanwhile."""
    return record.desired_stopped
