"""Static tasks: run the agent's engine on task files from a directory, with no controller.

Like a kubelet's static pods: every ``*.json`` file in ``tasks_dir`` holds one task assignment (the
JSON form from ``minecs.model.wire``), applied when the agent starts and again whenever the directory
changes (checked every ``rescan`` seconds). Each state change is written to stdout as one JSON line,
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
from agent.tasks.engine import Engine
from minecs.aiotasks import run_roots, sleep_or_wake
from minecs.errors import MinecsError
from minecs.logs import get_logger
from minecs.model.wire import assignment_from_json, snapshot_to_json
from minecs.settings import EngineSettings

log = get_logger(__name__)


def read_tasks(tasks_dir: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in sorted(tasks_dir.glob("*.json"))}


def apply_files(engine: Engine, files: list[Path]) -> None:
    for path in files:
        try:
            engine.apply(assignment_from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, MinecsError) as exc:
            log.error("task file refused", file=str(path), error=str(exc))


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

    async def watch_files() -> None:
        seen: dict[Path, float] = {}
        while not stop.is_set():
            current = read_tasks(tasks_dir)
            apply_files(engine, [p for p, mtime in current.items() if seen.get(p) != mtime])
            seen = current
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
