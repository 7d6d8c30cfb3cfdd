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
from datetime import timedelta
from typing import Any

from agent.provision.cgroups import remove_task_cgroup
from agent.provision.containerconfig import LOCAL_LOG_DRIVERS, container_spec
from agent.provision.resources import deprovision, provision, remove_task_volumes
from agent.runtime.base import Health, RunState
from agent.tasks.host import RunnerHost
from agent.tasks.memory import TaskMemory, cleanup_left, take_snapshot
from agent.tasks.ordering import GiveUp, Start, decide_start, may_stop
from agent.tasks.records import ContainerRecord, is_exited, reason, start_failure
from agent.tasks.taskstatus import essential_stop
from minecs.aiotasks import RootOutcome, guard, sleep_or_wake
from minecs.errors import ContainerNotFoundError, DriverError, ImageNotFoundError, ResourceInitError
from minecs.logs import get_logger
from minecs.model.task import (
    USER_STOP_REASON,
    DesiredStatus,
    KnownStatus,
    StopCode,
    TaskAssignment,
    TaskSnapshot,
    TaskStatus,
)
from minecs.validation.graph import edges

log = get_logger(__name__)
DEPENDENCY_EXIT_CODE = 143


class TaskRunner:
    """Drives one task to its desired status; owns and alone writes its ``TaskMemory``."""

    def __init__(self, host: RunnerHost, memory: TaskMemory) -> None:
        self.host = host
        self.memory = memory
        self.task_arn = memory.task_arn
        self.edges = edges(memory.assignment.definition)
        self.wake = asyncio.Event()
        # A restored task re-reads every container it knows; a new one has none to read yet.
        self.dirty: set[str] = set(memory.records)
        self.jobs: set[asyncio.Task[RootOutcome]] = set()
        self.last: TaskSnapshot | None = None
        self.cleaned = False
        if memory.desired is DesiredStatus.STOPPED:
            self._want_stop(
                memory.assignment.stop_code or StopCode.USER_INITIATED, memory.assignment.stopped_reason
            )

    @property
    def assignment(self) -> TaskAssignment:
        return self.memory.assignment

    @property
    def records(self) -> dict[str, ContainerRecord]:
        return self.memory.records

    # ------------------------------------------------------------------ inputs
    def update(self, assignment: TaskAssignment) -> None:
        """A poll answer's assignment for this task. Only a stop is news: every answer repeats the
        whole set, and waking all runners on each one made a scale-out step every task N times."""
        if (
            assignment.desired_status is DesiredStatus.STOPPED
            and self.memory.desired is DesiredStatus.RUNNING
        ):
            self._want_stop(
                assignment.stop_code or StopCode.USER_INITIATED, assignment.stopped_reason or USER_STOP_REASON
            )

    def touch(self, container: str) -> None:
        self.dirty.add(container)
        self.wake.set()

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        settings = self.host.settings
        while True:
            self.wake.clear()
            began = time.monotonic()
            await self._step()
            self._emit()
            self.host.observer.reconciled(time.monotonic() - began)
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
        if self.memory.desired is DesiredStatus.RUNNING:
            if self.memory.context is None and not self.memory.provision_failed:
                await self._provision()
            if self.memory.context is not None:
                self._start_what_may_start()
            decision = essential_stop(
                [r.facts() for r in self.records.values()],
                task_ran=self.memory.times["started_at"] is not None,
            )
            if decision is not None:
                self._want_stop(decision.code, decision.reason)
        if self.memory.desired is DesiredStatus.STOPPED:
            self._stop_what_may_stop()
            if self._all_stopped() and self.memory.resources.held and not self.jobs:
                await deprovision(self.host.driver, self.host.ports, self.memory.resources)
        if self._all_stopped() and not self.jobs:
            self.host.ports.release(self.task_arn)

    # ------------------------------------------------------------------ observing
    async def _refresh(self) -> None:
        names, self.dirty = self.dirty, set()
        for name in names:
            record = self.records.get(name)
            if record is None or not (record.runtime_id or record.docker_name):
                continue
            try:
                info = await self.host.driver.inspect(record.runtime_id or record.docker_name)
            except ContainerNotFoundError:
                if record.runtime_id is not None:
                    record.observe_vanished(self.host.now())
                continue
            except DriverError as exc:
                log.warning("inspect failed", task=self.task_arn, container=name, error=exc.message)
                continue
            if is_exited(info):
                if record.known is not KnownStatus.STOPPED and self._restart_if_due(record, info.exit_code):
                    continue
                record.observe_exited(info, self.host.now())
            elif info.running:
                record.observe_running(info)
            elif record.desired_stopped:
                # Created but never started, and no longer wanted: it will never run.
                record.known = KnownStatus.STOPPED
                record.finished_at = record.finished_at or self.host.now()
            else:
                record.observe_created(info)

    def _restart_if_due(self, record: ContainerRecord, exit_code: int | None) -> bool:
        policy = record.definition.restart_policy
        if (
            policy is None
            or not policy.enabled
            or record.desired_stopped
            or self.memory.desired is DesiredStatus.STOPPED
        ):
            return False
        if exit_code is None or exit_code in policy.ignored_exit_codes:
            return False
        since = record.last_restart_at or record.started_at
        now = self.host.now()
        if since is None or now - since < timedelta(seconds=policy.restart_attempt_period):
            return False
        record.restart_count += 1
        record.last_restart_at = now
        runtime_id = record.runtime_id or ""
        log.info("restarting container", task=self.task_arn, container=record.name, exit_code=exit_code)
        self._spawn(record, f"restart {record.name}", functools.partial(self.host.driver.start, runtime_id))
        return True

    # ------------------------------------------------------------------ starting
    async def _provision(self) -> None:
        self.memory.waiting_since = self.host.now()
        try:
            self.memory.context = await provision(
                self.assignment,
                driver=self.host.driver,
                ports=self.host.ports,
                resolver=self.host.secrets,
                settings=self.host.provision_settings,
                facts=self.host.facts,
                resources=self.memory.resources,
            )
        except ResourceInitError as exc:
            self.memory.provision_failed = True
            now = self.host.now()
            for record in self.records.values():
                record.fail(reason("ResourceInitializationError", exc.message), now=now)
            return
        for name, record in self.records.items():
            record.docker_name = self.memory.context.docker_names[name]
            record.bindings = self.memory.resources.bindings.get(name, ())
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
        now = self.host.now()
        bound = timedelta(seconds=self.host.settings.dependency_wait_timeout)
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
                waiting_since=self.memory.waiting_since or now,
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
        driver = self.host.driver
        assert self.memory.context is not None
        image = record.definition.image or ""
        try:
            await self._ensure_image(image)
        except ImageNotFoundError as exc:
            record.fail(reason("CannotPullContainerError", exc.message), now=self.host.now())
            return
        record.known = KnownStatus.PULLED
        if _abandoned(record):
            return
        spec = container_spec(record.definition, self.memory.context)
        self.memory.edits += 1  # the name is on disk before the create: a crash here is found again
        await self.host.persist()
        try:
            try:
                record.runtime_id = await driver.create(spec)
            except ImageNotFoundError:
                if not self.host.images.forget(image):
                    raise
                # Removed since the image manager saw it: ensure it again (pull if needed), once.
                try:
                    await self._ensure_image(image)
                except ImageNotFoundError as exc:
                    record.fail(reason("CannotPullContainerError", exc.message), now=self.host.now())
                    return
                record.runtime_id = await driver.create(spec)
        except DriverError as exc:
            record.fail(reason("CannotCreateContainerError", exc.message), now=self.host.now())
            return
        record.known = KnownStatus.CREATED
        record.created_at = self.host.now()
        if _abandoned(record):
            return
        await self._start_created(record)

    async def _start_created(self, record: ContainerRecord) -> None:
        """The last link of the start chain, also where a restored task picks up a created container."""
        try:
            await self.host.driver.start(record.runtime_id or "")
        except DriverError as exc:
            record.fail(reason("CannotStartContainerError", start_failure(exc.message)), now=self.host.now())
            return
        self.dirty.add(record.name)

    async def _ensure_image(self, image: str) -> None:
        self.memory.times["pull_started_at"] = self.memory.times["pull_started_at"] or self.host.now()
        try:
            await self.host.images.ensure(image)
        finally:
            self.memory.times["pull_stopped_at"] = self.host.now()

    # ------------------------------------------------------------------ stopping
    def _want_stop(self, code: StopCode, why: str | None) -> None:
        if self.memory.desired is DesiredStatus.STOPPED and self.memory.stop_code is not None:
            return
        self.memory.desired = DesiredStatus.STOPPED
        self.memory.stop_code = code
        self.memory.stopped_reason = why or USER_STOP_REASON
        self.memory.times["stopping_at"] = self.host.now()
        log.info("task stopping", task=self.task_arn, stop_code=code.value, reason=self.memory.stopped_reason)
        self.wake.set()

    def _stop_what_may_stop(self) -> None:
        views = {name: r.view() for name, r in self.records.items()}
        now = self.host.now()
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
                grace = grace if grace is not None else self.host.provision_settings.default_stop_timeout
                runtime_id = record.runtime_id or ""
                self._spawn(
                    record,
                    f"stop {record.name}",
                    functools.partial(self.host.driver.stop, runtime_id, grace),
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
                record.observe_vanished(self.host.now())
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

        name = f"{self.task_arn}: {what}"
        task = asyncio.create_task(guard(name, job), name=name)
        self.jobs.add(task)
        task.add_done_callback(self.jobs.discard)

    def _emit(self) -> None:
        snapshot = take_snapshot(self.memory, self.host.now())
        if self.last is not None and dataclasses.replace(snapshot, seq=self.last.seq) == self.last:
            return
        self.memory.seq += 1
        self.last = dataclasses.replace(snapshot, seq=self.memory.seq)
        self.host.publish(self.last)

    async def _cleanup_later(self) -> None:
        """Remove the stopped task's containers and task volumes once the cleanup wait has passed."""
        await asyncio.sleep(
            cleanup_left(self.memory.times["stopped_at"], self.host.now(), self.host.settings.cleanup_wait)
        )
        for record in self.records.values():
            if record.runtime_id:
                try:
                    await self.host.driver.remove(record.runtime_id, force=True)
                except DriverError as exc:
                    log.info("container cleanup skipped", container=record.docker_name, error=exc.message)
        await remove_task_volumes(self.host.driver, self.memory.resources)
        if self.memory.context is not None and self.memory.context.cgroup_parent:
            await remove_task_cgroup(self.assignment.task_id)
        self.cleaned = True
        log.info("task cleaned up", task=self.task_arn)


def _abandoned(record: ContainerRecord) -> bool:
    """Checked between the awaits of a start chain: the task may have been told to stop meanwhile."""
    return record.desired_stopped
