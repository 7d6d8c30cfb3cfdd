"""minecs processes for benches: ``minecs up``, or a controller and an agent as separate processes.

Each gets its own data directory and ports; every task container carries the bench label, so
``stop`` removes whatever a round left behind. Processes start through ``bench.processes``, so none
outlives the bench, and a layout whose start fails stops what it had launched. The admin credential
is read as the CLI reads it (``MINECS_ACCESS_KEY_ID`` / ``MINECS_SECRET_ACCESS_KEY``, else
``<data-dir>/credentials``), once the controller answers ``/healthz``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import BIN, LABEL, remove_labelled
from bench.processes import spawn, stop
from minecs.adminclient import admin_headers
from minecs.controlplane.auth import AdminCredential, load_or_create_admin

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

    ready_within = 30.0
    """Seconds a controller may take to answer ``/healthz``."""
    runs_tasks = True
    """Whether the layout has an agent, whose bench-labelled containers ``stop`` removes."""

    def launch(self, *args: str, bin_dir: Path = BIN) -> subprocess.Popen[bytes]:
        process = spawn(
            [str(bin_dir / "minecs"), *args], stdout=self.log, stderr=self.log, env={**os.environ, **QUIET}
        )
        self.processes.append(process)
        return process

    @contextmanager
    def starting(self) -> Iterator[None]:
        """A layout's start: if any step of it fails, whatever it launched is stopped."""
        try:
            yield
        except BaseException:
            self.stop()
            raise

    def wait_ready(self) -> None:
        """Until the controller answers ``/healthz`` (it has written or read its admin credential then)."""
        wait(self._healthy, self.ready_within, "controller ready")

    def _healthy(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        finally:
            connection.close()

    def controller_dir(self) -> Path:
        raise NotImplementedError

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request on this thread's kept-alive connection (a new connection per poll cost the
        controller an accept and a handler, and this process urllib's set-up, on every 5 ms poll)."""
        if self._authorization is None:
            self._authorization = admin_headers(self.controller_dir())["Authorization"]
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

    def admin(self) -> AdminCredential:
        """The admin credential, read as the CLI reads it (the environment first, else the file)."""
        return load_or_create_admin(self.controller_dir())

    def stop(self) -> None:
        try:
            for process in reversed(self.processes):
                stop(process, timeout=60)
        finally:
            self.log.close()
            connection = getattr(self._connections, "connection", None)
            if connection is not None:
                connection.close()
            if self.runs_tasks:
                remove_labelled()


class UpProcess(Daemons):
    """``minecs up``: the controller and an agent in one process."""

    def __init__(self) -> None:
        super().__init__("minecs-bench-up-")
        with self.starting():
            self.launch(
                "up", "--data-dir", str(self.dir / "data"), "--port", str(self.port),
                "--metrics-port", str(self.metrics_port), *AGENT_FLAGS,
            )  # fmt: skip
            self.wait_ready()
            self.wait_registered()

    def controller_dir(self) -> Path:
        return self.dir / "data"


class SplitProcesses(Daemons):
    """A controller process and one agent process, as on an edge host; ``agent`` is the agent's process,
    run from ``agent_bin`` (a venv's bin directory)."""

    def __init__(self, agent_bin: Path = BIN) -> None:
        super().__init__("minecs-bench-split-")
        with self.starting():
            self.launch("controller", "--data-dir", str(self.controller_dir()), "--port", str(self.port))
            self.wait_ready()
            token = self.call("POST", "/v1/tokens", {"uses": 1})["token"]
            self.agent = self.launch(
                "agent", "--endpoint", self.endpoint, "--token", token, "--data-dir", str(self.dir / "agent"),
                "--metrics-port", str(self.metrics_port), *AGENT_FLAGS, bin_dir=agent_bin,
            )  # fmt: skip
            self.wait_registered()

    def controller_dir(self) -> Path:
        return self.dir / "controller"


class ControllerOnly(Daemons):
    """A controller process alone (no agent, no Docker): for the API benches."""

    runs_tasks = False

    def __init__(self) -> None:
        super().__init__("minecs-bench-controller-")
        with self.starting():
            self.launch("controller", "--data-dir", str(self.controller_dir()), "--port", str(self.port))
            self.wait_ready()

    def controller_dir(self) -> Path:
        return self.dir / "controller"
