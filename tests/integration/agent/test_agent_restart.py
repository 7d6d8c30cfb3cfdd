"""kill -9 the agent while tasks run, restart it: nothing running is touched, vanished is reported."""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from minecs.model.wire import assignment_to_json
from tests.conftest import TEST_LABEL_KEY
from tests.integration.agent.conftest import assignment, container


class AgentProcess:
    """``minecs agent-static`` as a real process whose JSON-line state changes we can read."""

    def __init__(self, tasks: Path, data: Path, instance: str) -> None:
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.log = data.with_name(f"{data.name}.log")
        """Its log lines (stderr), JSON."""
        errors = self.log.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "minecs.cli",
                "agent-static",
                "--tasks",
                str(tasks),
                "--data-dir",
                str(data),
                "--instance-id",
                instance,
                "--publish-address",
                "127.0.0.1",
                "--pull-behavior",
                "prefer-cached",
                "--label",
                f"{TEST_LABEL_KEY}=1",
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "MINECS_LOG_FORMAT": "json"},
        )
        errors.close()  # the child has its own descriptor
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def latest_until(self, done: Any, within: float = 60) -> dict[str, dict[str, Any]]:
        """Read snapshots until ``done(latest by task)`` holds; return the latest per task."""
        latest: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + within
        while not done(latest):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"agent never reached the expected state; last seen: {json.dumps(latest)[:2000]}")
            try:
                snapshot = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            latest[snapshot["taskArn"]] = snapshot
        return latest

    def kill(self, sig: int) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def agent_dirs(tmp_path: Path) -> tuple[Path, Path, str]:
    tasks, data = tmp_path / "tasks", tmp_path / "data"
    tasks.mkdir()
    return tasks, data, f"it-{secrets.token_hex(4)}"


def _by_state(latest: dict[str, dict[str, Any]], status: str) -> list[str]:
    return [arn for arn, s in latest.items() if s["lastStatus"] == status]


def test_kill_9_and_restart_re_adopts_every_container(
    agent_dirs: tuple[Path, Path, str], docker_client: docker.DockerClient
) -> None:
    tasks_dir, data_dir, instance = agent_dirs
    assignments = [assignment(container("app"), container("side", essential=False)) for _ in range(5)]
    for i, a in enumerate(assignments):
        (tasks_dir / f"task-{i}.json").write_text(json.dumps(assignment_to_json(a)))
    first = AgentProcess(tasks_dir, data_dir, instance)
    try:
        first.latest_until(lambda latest: len(_by_state(latest, "RUNNING")) == 5)
    finally:
        first.kill(signal.SIGKILL)
    selector: dict[str, str | list[str] | bool] = {"label": [f"minecs.instance-id={instance}"]}
    before = {c.id: c.attrs["State"]["StartedAt"] for c in docker_client.containers.list(filters=selector)}
    assert len(before) == 10
    victim = assignments[0].task_id
    (removed,) = docker_client.containers.list(
        filters={"label": [f"minecs.task-id={victim}", "minecs.container-name=app"]}
    )
    removed.remove(force=True)

    second = AgentProcess(tasks_dir, data_dir, instance)
    try:
        latest = second.latest_until(
            lambda latest: (
                len(latest) == 5
                and len(_by_state(latest, "STOPPED")) == 1
                and len(_by_state(latest, "RUNNING")) == 4
            )
        )
        victim_state = latest[assignments[0].task_arn]
        app = next(c for c in victim_state["containers"] if c["name"] == "app")
        assert app["reason"] == "ContainerVanishedError: No container matching saved ID found"
        assert victim_state["stopCode"] == "EssentialContainerExited"
        after = {
            c.id: c.attrs["State"]["StartedAt"]
            for c in docker_client.containers.list(all=True, filters=selector)
            if c.attrs["State"]["Running"]
        }
        survivors = {cid: started for cid, started in before.items() if cid != removed.id}
        # The victim's sidecar was stopped by the essential rule; every other container is untouched.
        victim_side = next(c["runtimeId"] for c in victim_state["containers"] if c["name"] == "side")
        assert {cid: s for cid, s in survivors.items() if cid != victim_side} == after
        for arn in _by_state(latest, "RUNNING"):
            ids = {c["runtimeId"] for c in latest[arn]["containers"]}
            assert ids <= set(before)
    finally:
        second.kill(signal.SIGTERM)
    assert second.process.returncode == 0
