"""Real minecs processes for integration tests: ``minecs up``, or a controller with agent processes.

``Minecs`` is the controller as a test sees it: real HTTP on 127.0.0.1 with the admin credential
from its data directory, the ``minecs`` CLI pointed at it, and polling helpers that fail with the
last thing they saw. Every task container carries the test label, so the session's cleanup removes
whatever a failed test leaves. Controller clocks come from ``MINECS_CONTROLLER_*`` (tests shorten
ECS's 40 s healthy delay).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from minecs.controlplane.services import is_steady
from tests.conftest import TEST_LABEL_KEY, free_port

T = TypeVar("T")
AGENT_OPTIONS = (
    "--publish-address",
    "127.0.0.1",
    "--pull-behavior",
    "prefer-cached",
    "--label",
    f"{TEST_LABEL_KEY}=1",
)
FAST = {"MINECS_CONTROLLER_HEALTHY_DELAY": "3", "MINECS_LOG_FORMAT": "json"}


def launch(*args: str, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen[str]:
    """``minecs ARGS`` as a process; its output appended to ``log`` (or dropped)."""
    sink = log.open("a") if log is not None else None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "minecs.cli", *args],
            stdout=sink or subprocess.DEVNULL,
            stderr=sink or subprocess.DEVNULL,
            text=True,
            env={**os.environ, **FAST, **(env or {})},
        )
    finally:
        if sink is not None:
            sink.close()  # the child has its own descriptor


class Minecs:
    """A controller on 127.0.0.1:``port`` whose admin credential is in ``data_dir``."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.endpoint = f"http://127.0.0.1:{port}"

    def admin(self) -> str:
        text = (self.data_dir / "credentials").read_text()
        pairs = dict(line.split(" = ") for line in text.splitlines() if " = " in line)
        return f"MinecsAdmin {pairs['aws_access_key_id']}:{pairs['aws_secret_access_key']}"

    def call(
        self, method: str, path: str, body: Any = None, *, auth: str | None = "admin", within: float = 0
    ) -> tuple[int, Any]:
        """One HTTP call; with ``within`` > 0, retried while the server does not answer yet."""
        headers = {"Content-Type": "application/json"}
        deadline = time.monotonic() + within
        while True:
            if auth is not None:
                headers["Authorization"] = self.admin() if auth == "admin" else auth
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(self.endpoint + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        assert 200 <= status < 300, (status, answer)
        return answer

    def _command(self, *args: str) -> list[str]:
        """The ``minecs`` CLI with ``args``, pointed at this controller as its admin.

        The options go right after ``exec`` (``exec TASK CMD...``: after TASK they would be CMD's),
        else before a ``--``, else at the end."""
        words = list(args)
        at = words.index("--") if "--" in words else len(words)
        if words[:1] == ["exec"]:
            at = 1
        options = ["--endpoint", self.endpoint, "--data-dir", str(self.data_dir)]
        return [sys.executable, "-m", "minecs.cli", *words[:at], *options, *words[at:]]

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "MINECS_LOG_FORMAT": "json"},
        )

    def follow(self, *args: str) -> subprocess.Popen[str]:
        """A long-running CLI command (``logs -f``, ``events -f``) whose output the test reads line by line."""
        return subprocess.Popen(
            self._command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def wait(self, check: Callable[[], T | None], within: float = 120, what: str = "condition") -> T:
        deadline = time.monotonic() + within
        while True:
            last = check()
            if last:
                return last
            assert time.monotonic() < deadline, (
                f"{what} never held; last: {json.dumps(last, default=str)[:2000]}"
            )
            time.sleep(0.3)

    def service(self, name: str) -> dict[str, Any] | None:
        status, body = self.call("GET", f"/v1/services/{name}")
        return dict(body["service"]) if status == 200 else None

    def wait_service(
        self, name: str, done: Callable[[dict[str, Any]], bool], within: float = 120
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            found = self.service(name)
            return found if found is not None and done(found) else None

        return self.wait(check, within, what=f"service {name}")

    def wait_steady(self, name: str, within: float = 120) -> dict[str, Any]:
        return self.wait_service(name, lambda s: s["desiredCount"] > 0 and is_steady(s), within)

    def tasks(self) -> list[dict[str, Any]]:
        return list(self.ok("GET", "/v1/tasks")["tasks"])

    def live(self, group: str | None = None) -> list[dict[str, Any]]:
        return [
            t
            for t in self.tasks()
            if t["desiredStatus"] == "RUNNING" and (group is None or t.get("group") == group)
        ]

    def wait_task(self, task_id: str, status: str, within: float = 60) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            task = dict(self.ok("GET", f"/v1/tasks/{task_id}")["task"])
            return task if task["lastStatus"] == status else None

        return self.wait(check, within, what=f"task {task_id} {status}")

    def instances(self) -> list[dict[str, Any]]:
        return list(self.ok("GET", "/v1/instances")["containerInstances"])


class Up(Minecs):
    """``minecs up``: controller and agent in one process, the agent registered before tests go on."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *extra: str,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        super().__init__(data_dir, port or free_port())
        self.log = log
        self.metrics_port = free_port()
        self.process = launch(
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(self.port),
            "--metrics-port",
            str(self.metrics_port),
            *AGENT_OPTIONS,
            *extra,
            env=env,
            log=log,
        )
        self.call("GET", "/healthz", auth=None, within=30)
        self.wait(
            lambda: (data_dir / "agent" / "instance.json").exists() and self.instances(), 30, "registration"
        )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


class Cluster(Minecs):
    """A controller process and agent processes (each with its own data dir), all on this host."""

    def __init__(self, root: Path, *, env: dict[str, str] | None = None) -> None:
        super().__init__(root / "controller", free_port())
        self.root, self.env = root, env
        self.agents: dict[str, subprocess.Popen[str]] = {}
        self.start_controller()

    def start_controller(self) -> None:
        self.controller = launch(
            "controller", "--data-dir", str(self.data_dir), "--port", str(self.port), env=self.env
        )
        self.call("GET", "/healthz", auth=None, within=30)

    def add_agent(self, name: str) -> None:
        token = self.ok("POST", "/v1/tokens", {"uses": 1})["token"]
        args = ("--endpoint", self.endpoint, "--token", token, "--data-dir", str(self.root / name))
        self.agents[name] = launch("agent", *args, *AGENT_OPTIONS, env=self.env)

    def stop(self) -> None:
        for process in [*self.agents.values(), self.controller]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.agents.values(), self.controller]:
            process.wait(timeout=60)
