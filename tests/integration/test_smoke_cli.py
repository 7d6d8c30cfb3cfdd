"""``minecs smoke`` (what ``make up`` runs for now) as a real process against the real engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import docker

from tests.conftest import TEST_LABEL_KEY, free_port


def _smoke(*extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "minecs.cli", "smoke", "--label", f"{TEST_LABEL_KEY}=1", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MINECS_LOG_FORMAT": "json"},
    )


def test_smoke_serves_on_loopback_and_removes_its_container_on_sigterm(
    docker_client: docker.DockerClient,
) -> None:
    port = free_port()
    with _smoke("--port", str(port)) as process:
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline()
            assert first_line.startswith(f"minecs smoke run: http://127.0.0.1:{port}/ answers")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                assert b"minecs busybox" in response.read()
            assert len(docker_client.containers.list(filters={"label": "minecs.smoke=1"})) == 1
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    assert '"event": "stop signal received"' in stderr
    assert docker_client.containers.list(all=True, filters={"label": "minecs.smoke=1"}) == []


def test_smoke_with_exit_after_finishes_by_itself(docker_client: docker.DockerClient) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "minecs.cli", "smoke", "--label", f"{TEST_LABEL_KEY}=1", "--exit-after", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "answers from container minecs-smoke-" in done.stdout
    assert time.monotonic() - started < 120
    assert docker_client.containers.list(all=True, filters={"label": "minecs.smoke=1"}) == []


def test_smoke_with_a_missing_image_fails_clearly(docker_client: docker.DockerClient) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "minecs.cli", "smoke", "--image", "minecs/absent:1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "image minecs/absent:1 is not cached; build it offline with scripts/ensure-images" in done.stderr
