"""A ``minecs up`` process for benches: its own data dir and ports, its containers labelled for clean-up."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import BIN, LABEL, remove_labelled


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UpProcess:
    def __init__(self, *extra: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="minecs-bench-"))
        self.port, self.metrics_port = free_port(), free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = (self.dir / "up.log").open("w")
        self.process = subprocess.Popen(
            [
                str(BIN / "minecs"),
                "up",
                "--data-dir",
                str(self.dir / "data"),
                "--port",
                str(self.port),
                "--metrics-port",
                str(self.metrics_port),
                "--publish-address",
                "127.0.0.1",
                "--pull-behavior",
                "prefer-cached",
                "--label",
                LABEL,
                *extra,
            ],
            stdout=self.log,
            stderr=self.log,
            env={**os.environ, "MINECS_LOG_FORMAT": "json", "MINECS_LOG_LEVEL": "warning"},
        )
        self._wait(lambda: self.call("GET", "/healthz", auth=False), 30)
        self._wait(lambda: self.call("GET", "/v1/instances")["containerInstances"], 30)

    def admin(self) -> str:
        text = (self.dir / "data" / "credentials").read_text()
        pairs = dict(line.split(" = ") for line in text.splitlines() if " = " in line)
        return f"MinecsAdmin {pairs['aws_access_key_id']}:{pairs['aws_secret_access_key']}"

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        request = urllib.request.Request(
            self.endpoint + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", **({"Authorization": self.admin()} if auth else {})},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def _wait(self, check: Any, within: float) -> Any:
        deadline = time.monotonic() + within
        while True:
            try:
                found = check()
                if found:
                    return found
            except (OSError, urllib.error.URLError, KeyError, ValueError):
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError("minecs up did not become ready")
            time.sleep(0.2)

    def running(self) -> list[dict[str, Any]]:
        return [t for t in self.call("GET", "/v1/tasks")["tasks"] if t["lastStatus"] == "RUNNING"]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        finally:
            self.log.close()
            remove_labelled()
