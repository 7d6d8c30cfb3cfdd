"""systemd integration of the real daemons: readiness and watchdog over a fake $NOTIFY_SOCKET, units verified."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import REPO_ROOT, free_port


def test_the_controller_says_ready_only_once_it_serves_then_pings_and_says_stopping(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    port = free_port()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(path)
        systemd.settimeout(30)
        env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "MINECS_LOG_FORMAT": "json"}
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "minecs.cli",
                "controller",
                "--data-dir",
                str(tmp_path / "c"),
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            received: list[str] = []
            while not any(m.startswith("READY=1") for m in received):
                received.append(systemd.recv(256).decode())
            # READY=1 means serving: the port answers at once, no retry needed.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert answer.status == 200
            assert f"STATUS=serving on http://127.0.0.1:{port}" in received[-1]
            pings = [systemd.recv(256).decode() for _ in range(2)]
            assert pings == ["WATCHDOG=1", "WATCHDOG=1"]  # half of WATCHDOG_USEC apart
            daemon.send_signal(signal.SIGTERM)
            while (message := systemd.recv(256).decode()) == "WATCHDOG=1":
                pass
            assert message == "STOPPING=1"
            assert daemon.wait(timeout=30) == 0
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()


def test_every_unit_passes_systemd_analyze_verify() -> None:
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "verify-units")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "verify-units: 3 units verified"
