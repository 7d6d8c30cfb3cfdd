"""The fake driver passes the same contract as the real one, and its steering helpers emit events."""

from __future__ import annotations

import pytest

from agent.runtime.base import Health, HealthConfig, RunState
from agent.runtime.fake import FakeDriver
from minecs.errors import ContainerNotFoundError
from tests.conftest import TEST_IMAGE, TEST_LABELS
from tests.driver_contract import UNPULLABLE_IMAGE, DriverContract, next_event, spec


@pytest.fixture
def fake() -> FakeDriver:
    return FakeDriver(images={TEST_IMAGE})


class TestFakeDriverContract(DriverContract):
    @pytest.fixture
    def driver(self, fake: FakeDriver) -> FakeDriver:
        return fake

    @pytest.fixture
    def first_boot_bridge(self) -> None:
        """The fake answers as a first-boot engine does already."""


async def test_exit_emits_die_with_code_and_oom_first(fake: FakeDriver) -> None:
    async with fake.subscribe(TEST_LABELS) as events:
        container_id = await fake.create(spec())
        await fake.start(container_id)
        fake.exit(container_id, 137, oom=True)
        await next_event(events, container_id, "oom")
        died = await next_event(events, container_id, "die")
    assert died.exit_code == 137
    info = await fake.inspect(container_id)
    assert (info.state, info.exit_code, info.oom_killed) == (RunState.EXITED, 137, True)


async def test_health_starts_as_starting_and_follows_set_health(fake: FakeDriver) -> None:
    container_id = await fake.create(spec(health=HealthConfig(test=("CMD", "true"))))
    await fake.start(container_id)
    assert (await fake.inspect(container_id)).health is Health.STARTING
    async with fake.subscribe(TEST_LABELS) as events:
        fake.set_health(container_id, Health.HEALTHY)
        event = await next_event(events, container_id, "health_status")
    assert event.health is Health.HEALTHY


async def test_vanish_removes_without_an_event(fake: FakeDriver) -> None:
    container_id = await fake.create(spec())
    fake.vanish(container_id)
    with pytest.raises(ContainerNotFoundError):
        await fake.inspect(container_id)


async def test_pull_makes_a_pullable_image_present(fake: FakeDriver) -> None:
    fake.pullable.add("example/app:1")
    await fake.pull("example/app:1")
    assert await fake.image_present("example/app:1")
    assert ("pull", UNPULLABLE_IMAGE) not in fake.calls
