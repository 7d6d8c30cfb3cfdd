"""Integration tests: every test gets the real engine, and its labelled objects removed when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import remove_test_objects
from tests.integration.processes import Up


@pytest.fixture(autouse=True)
def _remove_labelled_objects_after_test(docker_client: docker.DockerClient) -> Iterator[None]:
    yield
    remove_test_objects(docker_client)


@pytest.fixture
def up(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[Up]:
    """``minecs up`` as its own process, its agent registered; stopped (SIGTERM) when the test ends."""
    running = Up(tmp_path / "minecs", log=tmp_path / "up.log")
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
