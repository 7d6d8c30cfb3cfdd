"""The bench harness reads the admin credential as the CLI does, and leaves no process behind.

These start real ``minecs controller`` processes (no agent, no Docker) on free loopback ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bench import processes
from bench.common import BIN, REPO
from bench.upctl import ControllerOnly


def _children() -> list[int]:
    """Live (not zombie) processes whose parent is this test process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


def _gone(pid: int, within: float = 30) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(autouse=True)
def bench_dirs_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The layouts' data directories go under this test's tmp_path, not the machine's /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))


@pytest.fixture
def env_credential(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    pair = ("AKMCBENCHTEST0001", "bench-test-secret")
    monkeypatch.setenv("MINECS_ACCESS_KEY_ID", pair[0])
    monkeypatch.setenv("MINECS_SECRET_ACCESS_KEY", pair[1])
    return pair


def test_a_controller_given_the_admin_credential_by_the_environment_is_called_with_it(
    env_credential: tuple[str, str],
) -> None:
    controller = ControllerOnly()
    try:
        assert controller.call("GET", "/v1/instances")["containerInstances"] == []
        assert not (controller.controller_dir() / "credentials").exists()
    finally:
        controller.stop()
    assert _children() == []


def test_a_start_that_fails_stops_the_process_it_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ControllerOnly, "ready_within", 0.0)
    with pytest.raises(TimeoutError):
        ControllerOnly()
    assert _children() == []
    assert processes.alive() == []


def test_a_bench_stopped_by_sigterm_stops_its_controller(env_credential: tuple[str, str]) -> None:
    script = (
        "import sys, time\n"
        "from bench.upctl import ControllerOnly\n"
        "controller = ControllerOnly()\n"
        "print(controller.processes[0].pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    bench = subprocess.Popen(
        [str(BIN / "python"), "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert bench.stdout is not None
        controller_pid = int(bench.stdout.readline())
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(timeout=60) == 128 + signal.SIGTERM
        assert _gone(controller_pid)
    finally:
        bench.kill()
        bench.wait()
        if bench.stdout is not None:
            bench.stdout.close()
