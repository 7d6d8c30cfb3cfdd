"""minecs processes for benches: ``minecs up``, or a controller and an agent as separate processes.

Each gets its own data directory and ports; every task container carries the bench label, so
``stop`` removes whatever a round left behind.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import BIN, LABEL, remove_labelled

AGENT_FLAGS = ("--publish-address", "127.0.0.1", "--pull-behavior", "prefer-cached", "--label", LABEL)
QUIET = {"MINECS_LOG_FORMAT": "json", "MINECS_LOG_LEVEL": "warning"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(check: Callable[[], Any], within: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            found = check()
            if found:
                return found
        except (OSError, KeyError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {within} s")
        time.sleep(0.2)


class BenchCallError(OSError):
    """The controller answered a bench's call with an error status."""


class Daemons:
    """What both layouts share: the controller's endpoint and admin credential, and the processes."""

    def __init__(self, prefix: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.port, self.metrics_port = free_port(), free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = (self.dir / "daemons.log").open("w")
        self.processes: list[subprocess.Popen[bytes]] = []
        self._authorization: str | None = None
        self._connections = threading.local()

    def launch(self, *args: str, bin_dir: Path = BIN) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [str(bin_dir / "minecs"), *args], stdout=self.log, stderr=self.log, env={**os.environ, **QUIET}
        )
        self.processes.append(process)
        return process

    def controller_dir(self) -> Path:
        raise NotImplementedError

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request on this thread's kept-alive connection (a new connection per poll cost the
        controller an accept and a handler, and this process urllib's set-up, on every 5 ms poll)."""
        if self._authorization is None:
            text = (self.controller_dir() / "credentials").read_text()
            pairs = dict(line.split(" = ") for line in text.splitlines() if " = " in line)
            self._authorization = f"MinecsAdmin {pairs['aws_access_key_id']}:{pairs['aws_secret_access_key']}"
        headers = {"Content-Type": "application/json", "Authorization": self._authorization}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            connection = getattr(self._connections, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self._connections.connection = connection
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                self._connections.connection = None
                if attempt == 2:
                    raise
                continue
            if response.status >= 400:
                raise BenchCallError(f"{method} {path}: {response.status} {payload[:300]!r}")
            return json.loads(payload)
        raise AssertionError("unreachable")

    def wait_registered(self) -> None:
        wait(lambda: self.call("GET", "/v1/instances")["containerInstances"], 60, "agent registration")

    def wait_status(self, task_id: str, status: str, within: float = 120) -> dict[str, Any]:
        found: dict[str, Any] = wait(
            lambda: (t := self.call("GET", f"/v1/tasks/{task_id}")["task"])["lastStatus"] == status and t,
            within,
            f"task {task_id} {status}",
        )
        return found

    def running(self) -> list[dict[str, Any]]:
        return [t for t in self.call("GET", "/v1/tasks")["tasks"] if t["lastStatus"] == "RUNNING"]

    def running_container_ids(self, *, every: bool = False) -> list[str]:
        """Container ids of RUNNING tasks (``every``: of every task still listed)."""
        tasks = self.call("GET", "/v1/tasks")["tasks"]
        return [
            c["runtimeId"]
            for t in tasks
            if every or t["lastStatus"] == "RUNNING"
            for c in t["containers"]
            if c.get("runtimeId")
        ]

    def stop(self) -> None:
        try:
            for process in reversed(self.processes):
                process.send_signal(signal.SIGTERM)
            for process in self.processes:
                process.wait(timeout=60)
        finally:
            self.log.close()
            remove_labelled()


class UpProcess(Daemons):
    """``minecs up``: the controller and an agent in one process."""

    def __init__(self) -> None:
        super().__init__("minecs-bench-up-")
        self.launch(
            "up", "--data-dir", str(self.dir / "data"), "--port", str(self.port),
            "--metrics-port", str(self.metrics_port), *AGENT_FLAGS,
        )  # fmt: skip
        wait(lambda: (self.dir / "data" / "credentials").exists() and self.call("GET", "/healthz"), 30, "up")
        self.wait_registered()

    def controller_dir(self) -> Path:
        return self.dir / "data"


class SplitProcesses(Daemons):
    """A controller process and one agent process, as on an edge host; ``agent`` is the agent's process,
    run from ``agent_bin`` (a venv's bin directory)."""

    def __init__(self, agent_bin: Path = BIN) -> None:
        super().__init__("minecs-bench-split-")
        self.launch("controller", "--data-dir", str(self.dir / "controller"), "--port", str(self.port))
        wait(
            lambda: self.controller_dir().joinpath("credentials").exists() and self.call("GET", "/healthz"),
            30,
        )
        token = self.call("POST", "/v1/tokens", {"uses": 1})["token"]
        self.agent = self.launch(
            "agent", "--endpoint", self.endpoint, "--token", token, "--data-dir", str(self.dir / "agent"),
            "--metrics-port", str(self.metrics_port), *AGENT_FLAGS, bin_dir=agent_bin,
        )  # fmt: skip
        self.wait_registered()

    def controller_dir(self) -> Path:
        return self.dir / "controller"
