"""The agent's task engine: desired tasks in, ordered state changes out, Docker in between.

``Engine`` is the in-process API that the agent daemon (and the integration tests) drive:

* ``apply(assignment)`` makes one task's desired state known; it starts a ``TaskRunner`` for a new
  task or wakes the existing one;
* ``snapshot``/``history``/``wait_for`` and ``subscribe()`` give the task's state changes, each with
  a per-task sequence number (ordered, deduplicated, replayable from any ``seq``); with a state file,
  ``subscribe()`` sees a change only after it was persisted (write-ahead);
* ``running()`` is the lifetime: it subscribes to Docker events for this instance's containers
  *before* anything starts (so no event is missed) and routes each event to the task's runner.
  Leaving it cancels the runners but never stops a container: an agent that goes away leaves its
  tasks running, as the ECS agent does.

Image pulls follow ``ECS_IMAGE_PULL_BEHAVIOR`` (see ``ImageManager``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from agent.provision.ports import PortTable
from agent.provision.resources import InstanceFacts
from agent.provision.secrets import LocalSecretStore, SecretResolver
from agent.runtime.base import ContainerEvent, Driver
from agent.tasks.host import EngineObserver, RunnerHost
from agent.tasks.memory import new_memory
from agent.tasks.runner import TaskRunner
from agent.tasks.state import StateFile, memory_from_json
from minecs.aiotasks import RootOutcome, guard
from minecs.errors import DriverError, ImageNotFoundError
from minecs.logs import get_logger
from minecs.model.task import TaskAssignment, TaskSnapshot
from minecs.settings import EngineSettings, ProvisionSettings, PullBehavior

log = get_logger(__name__)


class ImageManager:
    """Makes an image available per the pull behaviour.

    * ``default``: pull; if the pull fails and the image is cached, run the cached one (logged);
    * ``always``: pull; a failed pull fails the container;
    * ``once``: pull only when the image is not cached;
    * ``prefer-cached``: use the cached image; pull only when it is missing.

    A failure is ``ImageNotFoundError`` (the container's reason becomes ``CannotPullContainerError``).
    Concurrent requests for one image share a single pull: no retry storm.

    Under ``once`` and ``prefer-cached`` an image seen present is remembered, so the next container
    of it needs no Docker call (40 tasks of one service asked Docker 40 times). If it was removed
    since, the create says so: the runner calls ``forget`` and ensures the image again, once.
    """

    def __init__(self, driver: Driver, behavior: PullBehavior) -> None:
        self.driver = driver
        self.behavior = behavior
        self._pulls: dict[str, asyncio.Future[None]] = {}
        self._present: set[str] = set()

    def forget(self, image: str) -> bool:
        """Drop the memory of ``image`` being present; whether there was one."""
        if image in self._present:
            self._present.discard(image)
            return True
        return False

    async def ensure(self, image: str) -> None:
        remembers = self.behavior in (PullBehavior.ONCE, PullBehavior.PREFER_CACHED)
        if remembers and image in self._present:
            return
        cached = await self.driver.image_present(image)
        if cached and remembers:
            self._present.add(image)
            return
        try:
            await self._pull_once(image)
        except ImageNotFoundError as exc:
            if cached and self.behavior is PullBehavior.DEFAULT:
                log.warning("pull failed, using cached image", image=image, error=exc.message)
                return
            raise
        if remembers:
            self._present.add(image)

    async def _pull_once(self, image: str) -> None:
        pending = self._pulls.get(image)
        if pending is None:
            # Not a background task: a shared result that every caller awaits (shielded, so one
            # caller's cancellation does not end the others' pull), and its failure reaches them all.
            pending = asyncio.ensure_future(self.driver.pull(image))
            self._pulls[image] = pending
            pending.add_done_callback(lambda _: self._pulls.pop(image, None))
        await asyncio.shield(pending)


class _Unobserved:
    def event_handled(self, lag_seconds: float) -> None:
        pass

    def reconciled(self, seconds: float) -> None:
        pass


class Engine:
    def __init__(
        self,
        driver: Driver,
        settings: EngineSettings,
        facts: InstanceFacts,
        *,
        state_path: Path | None = None,
        secrets_dir: Path | None = None,
        secrets: SecretResolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        observer: EngineObserver | None = None,
    ) -> None:
        """``settings`` is the tree's ``agent.engine`` section; ``facts`` and the two paths are not
        settings. ``state_path`` None keeps the state in memory only (tests); ``secrets_dir`` None
        (and no ``secrets``) resolves no secrets."""
        self.driver = driver
        self.observer: EngineObserver = observer or _Unobserved()
        self.settings = settings
        self.facts = facts
        self.now = clock
        self.secrets = secrets or (LocalSecretStore(secrets_dir) if secrets_dir else None)
        self.images = ImageManager(driver, settings.pull_behavior)
        provision = settings.provision
        self.ports = PortTable(
            provision.port_range, provision.reserved_ports, probe_address=facts.publish_address
        )
        self._runners: dict[str, TaskRunner] = {}
        self._by_id: dict[str, TaskRunner] = {}
        self._tasks: dict[str, asyncio.Task[RootOutcome]] = {}
        self._history: dict[str, list[TaskSnapshot]] = {}
        self._changed = asyncio.Condition()
        self._subscribers: list[asyncio.Queue[TaskSnapshot]] = []
        self._live = False
        self.state = StateFile(state_path) if state_path else None
        self._saver: asyncio.Task[RootOutcome] | None = None
        self._save_wanted = False
        self._persist_lock = asyncio.Lock()
        self._persist_asked = 0
        self._persist_done = 0
        self._undelivered: list[TaskSnapshot] = []

    @property
    def provision_settings(self) -> ProvisionSettings:
        """The tree's ``agent.engine.provision`` section (what a runner's provisioning reads)."""
        return self.settings.provision

    # ------------------------------------------------------------------ lifetime
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Engine]:
        labels = {"minecs.instance-id": self.facts.instance_id}
        async with self.driver.subscribe(labels) as events:
            pump = asyncio.create_task(
                guard("engine events", lambda: self._route(events)), name="engine events"
            )
            self._restore()
            self._live = True
            for runner in self._runners.values():
                self._launch(runner)
            resync = asyncio.create_task(
                guard("engine resync", lambda: self._resync_forever(labels)), name="engine resync"
            )
            try:
                yield self
            finally:
                self._live = False
                pump.cancel()
                resync.cancel()
                tasks = list(self._tasks.values())
                for task in tasks:
                    task.cancel()
                await asyncio.gather(pump, resync, *tasks, return_exceptions=True)
                if self._saver is not None:
                    await asyncio.gather(self._saver, return_exceptions=True)
                await self.persist(fresh=True)

    async def _resync_forever(self, labels: Mapping[str, str]) -> None:
        """Every ``resync_interval``, one container list for the whole instance; each runner then
        inspects only the containers whose state or health the list shows changed (a missed event).
        Inspecting every container on a timer cost an idle agent with 50 tasks 0.6 % of a core."""
        while True:
            await asyncio.sleep(self.settings.resync_interval)
            try:
                seen = await self.driver.states(labels)
            except DriverError as exc:
                log.warning("resync skipped", error=exc.message)
                continue
            for runner in list(self._runners.values()):
                runner.resync(seen)

    def _restore(self) -> None:
        if self.state is None:
            return
        saved = self.state.load()
        if saved.get("instanceId") not in (None, self.facts.instance_id):
            raise ValueError(
                f"{self.state.path} belongs to instance {saved['instanceId']}, not {self.facts.instance_id}; "
                "move it away to register as a new instance"
            )
        for data in saved["tasks"]:
            memory, claims = memory_from_json(data, self.provision_settings, self.facts, self.secrets)
            for port, protocol in claims:
                self.ports.claim(memory.task_arn, port, protocol)
            runner = TaskRunner(self._as_host(), memory)
            self._runners[runner.task_arn] = runner
            self._by_id[runner.assignment.task_id] = runner
            log.info("task restored", task=runner.task_arn, containers=len(runner.records))

    # ------------------------------------------------------------------ persistence
    async def persist(self, *, fresh: bool = False) -> None:
        """Write the state (and wait until it is on disk); a no-op without a state file.

        Group commit: callers that arrive while a write is under way share the next one. Every
        container create waits for its name to be on disk, and a write holds every task, so when 40
        tasks start at once one write per caller would be 40 writes of 40 tasks each, in a row."""
        if self.state is None:
            return
        self._persist_asked += 1
        mine = self._persist_asked
        async with self._persist_lock:
            if self._persist_done >= mine:
                return  # a write that began after we asked has already covered us
            covering = self._persist_asked
            live = (r.memory for r in self._runners.values() if not r.cleaned)
            text = self.state.encode(self.facts.instance_id, live, self.ports.owned_by, fresh=fresh)
            await self.state.save(text)
            self._persist_done = covering

    def _schedule_save(self) -> None:
        if self.state is None:
            return
        self._save_wanted = True
        if self._saver is None or self._saver.done():
            self._saver = asyncio.create_task(guard("state saver", self._save_loop), name="state saver")

    async def _save_loop(self) -> None:
        while self._save_wanted:
            self._save_wanted = False
            durable, self._undelivered = self._undelivered, []
            try:
                await self.persist()
            except OSError:
                log.exception("agent state not saved; reporting anyway")
            self._deliver(durable)

    def _deliver(self, snapshots: list[TaskSnapshot]) -> None:
        for snapshot in snapshots:
            for queue in self._subscribers:
                queue.put_nowait(snapshot)

    async def _route(self, events: AsyncIterator[ContainerEvent]) -> None:
        async for event in events:
            runner = self._by_id.get(event.labels.get("minecs.task-id", ""))
            if runner is not None:
                runner.touch(event.labels.get("minecs.container-name", ""))
            if event.time_ns:
                self.observer.event_handled(max(time.time_ns() - event.time_ns, 0) / 1e9)

    # ------------------------------------------------------------------ desired state in
    def apply(self, assignment: TaskAssignment) -> None:
        runner = self._runners.get(assignment.task_arn)
        if runner is not None:
            runner.update(assignment)
            return
        runner = TaskRunner(self._as_host(), new_memory(assignment))
        self._runners[assignment.task_arn] = runner
        self._by_id[assignment.task_id] = runner
        if self._live:
            self._launch(runner)

    def _as_host(self) -> RunnerHost:
        """The engine as its runners see it: typed so, mypy checks that ``Engine`` is a ``RunnerHost``."""
        return self

    def _launch(self, runner: TaskRunner) -> None:
        name = f"runner {runner.task_arn}"
        self._tasks[runner.task_arn] = asyncio.create_task(guard(name, runner.run), name=name)

    # ------------------------------------------------------------------ state changes out
    def publish(self, snapshot: TaskSnapshot) -> None:
        history = self._history.setdefault(snapshot.task_arn, [])
        history.append(snapshot)
        del history[: -self.settings.history_limit]
        # Write-ahead: a change leaves the agent (subscribers) only once it is on disk, so an agent
        # killed right after reporting RUNNING still knows, after its restart, that it did.
        if self.state is None:
            self._deliver([snapshot])
        else:
            self._undelivered.append(snapshot)
            self._schedule_save()
        self._notifier = asyncio.create_task(guard("engine notify", self._notify), name="engine notify")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def subscribe(self) -> asyncio.Queue[TaskSnapshot]:
        queue: asyncio.Queue[TaskSnapshot] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def snapshot(self, task_arn: str) -> TaskSnapshot | None:
        history = self._history.get(task_arn)
        return history[-1] if history else None

    def history(self, task_arn: str, after_seq: int = 0) -> list[TaskSnapshot]:
        return [s for s in self._history.get(task_arn, []) if s.seq > after_seq]

    async def wait_for(
        self, task_arn: str, predicate: Callable[[TaskSnapshot], bool], within: float = 60.0
    ) -> TaskSnapshot:
        """The first snapshot (current or future) that satisfies ``predicate``."""

        def match() -> TaskSnapshot | None:
            for snapshot in self._history.get(task_arn, []):
                if predicate(snapshot):
                    return snapshot
            return None

        async with asyncio.timeout(within), self._changed:
            while (found := match()) is None:
                await self._changed.wait()
            return found

    def runner(self, task_arn: str) -> TaskRunner | None:
        return self._runners.get(task_arn)

    def pids(self) -> dict[str, int]:
        """Running containers' main process ids by container id (for the kernel-read metrics)."""
        return {
            r.runtime_id: r.pid
            for runner in self._runners.values()
            for r in runner.records.values()
            if r.runtime_id and r.pid
        }

    def tasks(self) -> dict[str, tuple[TaskAssignment, TaskSnapshot | None]]:
        """Every task the engine holds: what it was told and its latest snapshot (the metadata endpoint's view)."""
        return {arn: (r.assignment, self.snapshot(arn)) for arn, r in self._runners.items() if not r.cleaned}
