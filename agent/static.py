"""Static tasks: run the agent's engine on task files from a directory, with no controller.

Like a kubelet's static pods: every task file in ``tasks_dir`` (``agent.staticfiles`` says the
format) holds one task, applied when the agent starts and again whenever the directory changes
(checked every ``rescan`` seconds); a deleted file stops its task. A file that cannot be used is
logged with every problem, file and member named. Each state change is written to stdout as one JSON line,
which is how the integration tests watch an agent process they can kill -9 and restart. State is
persisted in ``data_dir``, so a restarted agent re-adopts its containers instead of starting new ones.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from agent.provision.resources import InstanceFacts
from agent.runtime.docker import DockerDriver
from agent.staticfiles import read_task_file, stopped, task_files
from agent.tasks.engine import Engine
from minecs.aiotasks import run_roots, sleep_or_wake
from minecs.errors import MinecsError, ValidationError
from minecs.logs import get_logger
from minecs.model.task import TaskAssignment
from minecs.model.wire import snapshot_to_json
from minecs.settings import EngineSettings

log = get_logger(__name__)


class TaskFiles:
    """What the directory held at the last scan: each file's time and the task it gave."""

    def __init__(self, engine: Engine, tasks_dir: Path) -> None:
        self.engine, self.tasks_dir = engine, tasks_dir
        self.times: dict[Path, float] = {}
        self.tasks: dict[Path, TaskAssignment] = {}

    def scan(self) -> None:
        current = task_files(self.tasks_dir) if self.tasks_dir.is_dir() else {}
        for path in [p for p in self.tasks if p not in current]:
            self.engine.apply(stopped(self.tasks.pop(path)))
            log.info("task file removed; its task stops", file=str(path))
        for path, mtime in current.items():
            if self.times.get(path) != mtime:
                self._read(path)
        self.times = current

    def _read(self, path: Path) -> None:
        try:
            task = read_task_file(path)
        except ValidationError as exc:
            for problem in exc.problems:
                log.error("task file refused", file=str(path), member=problem.path, error=problem.message)
            return
        before = self.tasks.get(path)
        if before is not None and before.task_arn != task.task_arn:
            self.engine.apply(stopped(before, "Task file changed"))
        self.tasks[path] = task
        try:
            self.engine.apply(task)
        except MinecsError as exc:
            log.error("task file refused", file=str(path), error=exc.message)


async def run_static(
    settings: EngineSettings,
    facts: InstanceFacts,
    data_dir: Path,
    tasks_dir: Path,
    stop: asyncio.Event,
    *,
    rescan: float = 2.0,
    out: TextIO = sys.stdout,
) -> None:
    driver = await DockerDriver.connect()
    engine = Engine(
        driver, settings, facts, state_path=data_dir / "agent-state.json", secrets_dir=data_dir / "secrets"
    )
    changes = engine.subscribe()

    files = TaskFiles(engine, tasks_dir)

    async def watch_files() -> None:
        while not stop.is_set():
            files.scan()
            await sleep_or_wake(rescan, stop)

    async def report() -> None:
        while True:
            snapshot = await changes.get()
            out.write(json.dumps(snapshot_to_json(snapshot)) + "\n")
            out.flush()

    try:
        async with engine.running():
            await run_roots({"task files": watch_files, "reports": report}, stop)
    finally:
        await driver.close()
