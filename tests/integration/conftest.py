"""Integration tests: every test gets the real engine, and its labelled objects removed when it ends."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from tests.conftest import remove_test_objects


@pytest.fixture(autouse=True)
def _remove_labelled_objects_after_test(docker_client: docker.DockerClient) -> Iterator[None]:
    yield
    remove_test_objects(docker_client)
