"""Shared test helpers: the Docker engine gate, labelled cleanup, free ports and ``wait_until``.

Conventions every test follows:

* ``tests/unit`` needs no Docker; ``tests/integration`` drives the real engine and real processes
  and is marked ``docker`` automatically.
* Integration tests are never silently skipped: with ``MINECS_REQUIRE_DOCKER=1`` (CI and
  ``make test`` set it) a missing engine fails the run with a clear message.
* Every Docker object a test creates carries ``TEST_LABELS``; the session fixture removes all of them
  at the start (leftovers of a killed run) and at the end, even after failures.
* Tests reach containers only through ports published on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import docker
import docker.errors
import pytest

from agent.runtime.docker import DockerDriver

TEST_LABEL_KEY = "minecs.test"
TEST_LABELS = {TEST_LABEL_KEY: "1"}
TEST_IMAGE = "minecs/busybox:latest"
LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")


def pytest_configure() -> None:
    """Ctrl-C reaches the processes the tests start even when pytest runs as a background job of a
    non-interactive shell, which starts it with SIGINT ignored: an ignored signal is inherited across
    exec, so every 'logs -f' a test interrupts would run on, while a handler is reset to the default."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.docker)


# ---------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


async def wait_until(
    observe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Call ``observe`` until ``done(observed)``; on timeout fail showing the last observed value."""
    deadline = time.monotonic() + within
    while True:
        last = await observe()
        if done(last):
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}; last observed: {last!r}")
        await asyncio.sleep(interval)


def remove_test_objects(client: docker.DockerClient) -> int:
    """Remove every container, network and volume carrying the test label; return how many."""
    removed = 0
    selector: dict[str, str | list[str] | bool] = {"label": f"{TEST_LABEL_KEY}=1"}
    for container in client.containers.list(all=True, filters=selector):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
            removed += 1
    for network in client.networks.list(filters=selector):
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
            removed += 1
    for volume in client.volumes.list(filters=selector):
        with contextlib.suppress(docker.errors.NotFound):
            volume.remove(force=True)
            removed += 1
    return removed


# ---------------------------------------------------------------------------- engine fixtures


def _engine_or_none() -> docker.DockerClient | None:
    try:
        client = docker.from_env(timeout=30)
    except docker.errors.DockerException:
        return None
    try:
        client.ping()
    except docker.errors.DockerException:
        client.close()
        return None
    return client


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The raw docker SDK, for tests to look at what minecs did. Cleans labelled objects up."""
    client = _engine_or_none()
    if client is None:
        message = "no Docker Engine answers; run scripts/ensure-docker (make test does)"
        if os.environ.get("MINECS_REQUIRE_DOCKER") == "1":
            pytest.fail(f"MINECS_REQUIRE_DOCKER=1 but {message}", pytrace=False)
        pytest.skip(message)
    try:
        client.images.get(TEST_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{TEST_IMAGE} is missing; run scripts/ensure-images", pytrace=False)
    remove_test_objects(client)
    try:
        yield client
    finally:
        remove_test_objects(client)
        client.close()


@pytest.fixture
async def docker_driver(docker_client: docker.DockerClient) -> AsyncIterator[DockerDriver]:
    """Our real driver, connected to the same engine."""
    driver = await DockerDriver.connect()
    try:
        yield driver
    finally:
        await driver.close()
