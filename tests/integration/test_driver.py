"""The real Docker driver against a real engine: the contract, health, HTTP and error mapping."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Mapping
from typing import Any

import docker
import pytest

from agent.runtime.base import Health, HealthConfig, PortBinding, RunState
from agent.runtime.docker import DockerDriver
from minecs.errors import ContainerConflictError, ImageNotFoundError
from tests.conftest import LOOPBACK, TEST_LABELS, free_port
from tests.driver_contract import DriverContract, next_event, spec


class TestDockerDriverContract(DriverContract):
    @pytest.fixture
    def driver(self, docker_driver: DockerDriver) -> DockerDriver:
        return docker_driver

    @pytest.fixture
    def first_boot_bridge(self, docker_driver: DockerDriver, monkeypatch: pytest.MonkeyPatch) -> None:
        """The engine's real inspect of ``bridge``, with its Gateway taken out as a first boot has it."""
        real = docker_driver._bridge_network

        async def without_gateway() -> Mapping[str, Any]:
            network = dict(await real())
            configs = [
                {k: v for k, v in c.items() if k != "Gateway"} for c in network["IPAM"]["Config"] or []
            ]
            return {**network, "IPAM": {**network["IPAM"], "Config": configs}}

        monkeypatch.setattr(docker_driver, "_bridge_network", without_gateway)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


async def test_offline_image_serves_http_on_loopback_turns_healthy_and_is_removed(
    docker_driver: DockerDriver, docker_client: docker.DockerClient
) -> None:
    """The whole chain: busybox httpd, a port on 127.0.0.1 that answers, healthy, then gone."""
    host_port = free_port()
    s = spec(
        command=("httpd", "-f", "-p", "8080", "-h", "/var/www"),
        ports=(PortBinding(8080, host_port=host_port, host_ip=LOOPBACK),),
        health=HealthConfig(
            test=("CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"),
            interval=1,
            timeout=2,
            retries=3,
        ),
    )
    async with docker_driver.subscribe(TEST_LABELS) as events:
        container_id = await docker_driver.create(s)
        await docker_driver.start(container_id)
        turned = await next_event(events, container_id, "health_status")
    assert turned.health is Health.HEALTHY
    info = await docker_driver.inspect(container_id)
    assert info.health is Health.HEALTHY
    assert info.ports == (PortBinding(8080, host_port=host_port, host_ip=LOOPBACK),)
    assert "minecs busybox" in await asyncio.to_thread(_get, f"http://{LOOPBACK}:{host_port}/")

    await docker_driver.stop(container_id, grace=1)
    await docker_driver.remove(container_id)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(container_id)


async def test_health_check_options_reach_docker_in_nanoseconds(
    docker_driver: DockerDriver, docker_client: docker.DockerClient
) -> None:
    health = HealthConfig(test=("CMD", "true"), interval=7, timeout=3, retries=4, start_period=2)
    container_id = await docker_driver.create(spec(health=health))
    configured = docker_client.api.inspect_container(container_id)["Config"]["Healthcheck"]
    assert configured == {
        "Test": ["CMD", "true"],
        "Interval": 7_000_000_000,
        "Timeout": 3_000_000_000,
        "Retries": 4,
        "StartPeriod": 2_000_000_000,
    }


async def test_missing_image_error_is_ours_with_a_clear_message(docker_driver: DockerDriver) -> None:
    with pytest.raises(ImageNotFoundError) as caught:
        await docker_driver.create(spec(image="minecs/not-built-here:1"))
    assert "No such image: minecs/not-built-here:1" in caught.value.message
    assert "create container" in caught.value.message
    assert isinstance(caught.value.__cause__, docker.errors.ImageNotFound)


async def test_name_conflict_error_is_ours_with_a_clear_message(docker_driver: DockerDriver) -> None:
    s = spec()
    await docker_driver.create(s)
    with pytest.raises(ContainerConflictError) as caught:
        await docker_driver.create(s)
    assert f'The container name "/{s.name}" is already in use' in caught.value.message
    assert isinstance(caught.value.__cause__, docker.errors.APIError)


async def test_a_container_that_exits_by_itself_reports_its_code(docker_driver: DockerDriver) -> None:
    async with docker_driver.subscribe(TEST_LABELS) as events:
        container_id = await docker_driver.create(spec(command=("sh", "-c", "exit 3")))
        await docker_driver.start(container_id)
        died = await next_event(events, container_id, "die")
    assert died.exit_code == 3
    info = await docker_driver.inspect(container_id)
    assert (info.state, info.exit_code, info.oom_killed) == (RunState.EXITED, 3, False)


async def test_logs_return_the_lines_in_order_and_tail(docker_driver: DockerDriver) -> None:
    async with docker_driver.subscribe(TEST_LABELS) as events:
        container_id = await docker_driver.create(
            spec(command=("sh", "-c", "echo one; echo two; sleep 0.2; echo three >&2"))
        )
        await docker_driver.start(container_id)
        await next_event(events, container_id, "die")
    assert await docker_driver.logs(container_id) == ["one", "two", "three"]
    assert await docker_driver.logs(container_id, tail=1) == ["three"]


async def test_follow_logs_streams_output_as_it_is_written_and_closes_early(
    docker_driver: DockerDriver,
) -> None:
    talker = await docker_driver.create(spec(command=("sh", "-c", "echo one; sleep 1; echo two >&2")))
    await docker_driver.start(talker)
    async with asyncio.timeout(30):
        streamed = b"".join([chunk async for chunk in docker_driver.follow_logs(talker)])
    assert streamed == b"one\ntwo\n"
    quiet = await docker_driver.create(spec(command=("sh", "-c", "echo first; exec sleep 300")))
    await docker_driver.start(quiet)
    follow = docker_driver.follow_logs(quiet, tail=5)
    async with asyncio.timeout(30):
        assert await anext(follow) == b"first\n"
        await follow.aclose()  # the reader parked on a silent container lets go at once
    assert (await docker_driver.inspect(quiet)).running
