"""The ``Driver`` contract: one set of assertions that the real and the fake driver both pass.

Subclass ``DriverContract`` in a test module and provide a ``driver`` fixture. The real engine runs
it in ``tests/integration/test_driver.py``, the fake in ``tests/unit/agent/test_fakedriver.py``, so
the fake cannot quietly drift from what the engine does.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from agent.runtime.base import ContainerEvent, ContainerSpec, Driver, Health, PortBinding, RunState
from minecs.errors import ContainerConflictError, ContainerNotFoundError, ImageNotFoundError
from tests.conftest import LOOPBACK, TEST_IMAGE, TEST_LABELS

# Exits 143 promptly on SIGTERM, as a well-behaved service does (sleep as PID 1 would ignore it).
SERVICE_COMMAND = ("sh", "-c", "trap 'exit 143' TERM; sleep 300 & wait")
# An image reference whose registry is a closed loopback port: a pull fails without leaving the host.
UNPULLABLE_IMAGE = "127.0.0.1:9/minecs/no-such-image:1"


def spec(**overrides: object) -> ContainerSpec:
    fields: dict[str, object] = {
        "name": f"minecs-test-{secrets.token_hex(5)}",
        "image": TEST_IMAGE,
        "command": SERVICE_COMMAND,
        "labels": dict(TEST_LABELS),
    }
    fields.update(overrides)
    return ContainerSpec(**fields)  # type: ignore[arg-type]


async def next_event(events: AsyncIterator[ContainerEvent], container_id: str, action: str) -> ContainerEvent:
    async with asyncio.timeout(30):
        async for event in events:
            if event.container_id == container_id and event.action == action:
                return event
    raise AssertionError(f"stream ended before {action} of {container_id[:12]}")


class DriverContract:
    """Subclasses give a ``driver`` fixture and a ``first_boot_bridge`` fixture that makes that
    driver see the bridge network as a first-boot engine shows it (no IPAM ``Gateway``)."""

    async def test_create_start_inspect_reports_a_running_container(self, driver: Driver) -> None:
        s = spec(labels={**TEST_LABELS, "purpose": "contract"})
        container_id = await driver.create(s)
        await driver.start(container_id)
        info = await driver.inspect(container_id)
        assert info.id == container_id
        assert info.name == s.name
        assert info.state is RunState.RUNNING
        assert info.running
        assert info.exit_code is None
        assert info.started_at is not None
        assert info.labels["purpose"] == "contract"
        assert (await driver.inspect(s.name)).id == container_id

    async def test_created_container_is_not_running_and_has_no_exit_code(self, driver: Driver) -> None:
        info = await driver.inspect(await driver.create(spec()))
        assert info.state is RunState.CREATED
        assert not info.running
        assert info.exit_code is None
        assert info.started_at is None

    async def test_a_taken_name_is_a_conflict(self, driver: Driver) -> None:
        s = spec()
        await driver.create(s)
        with pytest.raises(ContainerConflictError, match=s.name):
            await driver.create(s)

    async def test_a_missing_image_is_image_not_found_naming_the_image(self, driver: Driver) -> None:
        with pytest.raises(ImageNotFoundError, match="no-such-image"):
            await driver.create(spec(image=UNPULLABLE_IMAGE))
        assert not await driver.image_present(UNPULLABLE_IMAGE)
        assert await driver.image_present(TEST_IMAGE)

    async def test_pull_of_an_unreachable_image_is_image_not_found(self, driver: Driver) -> None:
        with pytest.raises(ImageNotFoundError, match="no-such-image"):
            await driver.pull(UNPULLABLE_IMAGE)

    async def test_unknown_container_is_not_found(self, driver: Driver) -> None:
        with pytest.raises(ContainerNotFoundError):
            await driver.inspect("minecs-test-never-created")
        with pytest.raises(ContainerNotFoundError):
            await driver.start("minecs-test-never-created")

    async def test_stop_records_the_exit_and_a_second_stop_is_harmless(self, driver: Driver) -> None:
        container_id = await driver.create(spec())
        await driver.start(container_id)
        await driver.stop(container_id, grace=5)
        info = await driver.inspect(container_id)
        assert info.state is RunState.EXITED
        assert info.exit_code == 143
        assert info.finished_at is not None
        await driver.stop(container_id, grace=5)

    async def test_remove_forgets_the_container_and_running_needs_force(self, driver: Driver) -> None:
        container_id = await driver.create(spec())
        await driver.start(container_id)
        with pytest.raises(ContainerConflictError):
            await driver.remove(container_id)
        await driver.remove(container_id, force=True)
        with pytest.raises(ContainerNotFoundError):
            await driver.inspect(container_id)

    async def test_list_selects_by_every_label(self, driver: Driver) -> None:
        mark = secrets.token_hex(4)
        wanted = await driver.create(spec(labels={**TEST_LABELS, "mark": mark, "role": "a"}))
        await driver.create(spec(labels={**TEST_LABELS, "mark": mark, "role": "b"}))
        found = await driver.find({"mark": mark, "role": "a"})
        assert [c.id for c in found] == [wanted]

    async def test_states_list_every_labelled_container_in_one_call(self, driver: Driver) -> None:
        labels = {**TEST_LABELS, "mark": secrets.token_hex(4)}
        created = await driver.create(spec(labels=labels))
        running = await driver.create(spec(labels=labels))
        await driver.start(running)
        exited = await driver.create(spec(labels=labels))
        await driver.start(exited)
        await driver.stop(exited, grace=5)
        await driver.create(spec())  # without the mark: not listed
        assert await driver.states({"mark": labels["mark"]}) == {
            created: (RunState.CREATED, Health.NONE),
            running: (RunState.RUNNING, Health.NONE),
            exited: (RunState.EXITED, Health.NONE),
        }

    async def test_dynamic_host_port_is_assigned_on_start(self, driver: Driver) -> None:
        container_id = await driver.create(spec(ports=(PortBinding(8080, host_ip=LOOPBACK),)))
        await driver.start(container_id)
        (binding,) = (await driver.inspect(container_id)).ports
        assert binding.container_port == 8080
        assert binding.host_port > 0
        assert binding.host_ip == LOOPBACK

    async def test_events_show_start_then_die_with_the_exit_code(self, driver: Driver) -> None:
        mark = secrets.token_hex(4)
        async with driver.subscribe({"mark": mark}) as events:
            container_id = await driver.create(spec(labels={**TEST_LABELS, "mark": mark}))
            await driver.start(container_id)
            started = await next_event(events, container_id, "start")
            assert started.labels["mark"] == mark
            await driver.stop(container_id, grace=5)
            died = await next_event(events, container_id, "die")
            assert died.exit_code == 143

    async def test_volumes_are_created_once_and_removed_quietly(self, driver: Driver) -> None:
        name = f"minecs-test-{secrets.token_hex(4)}"
        assert not await driver.volume_exists(name)
        await driver.create_volume(name, driver_opts={}, labels=TEST_LABELS)
        assert await driver.volume_exists(name)
        with pytest.raises(ContainerConflictError):
            await driver.create_volume(name, driver_opts={}, labels=TEST_LABELS)
        await driver.remove_volume(name)
        assert not await driver.volume_exists(name)
        await driver.remove_volume(name)

    async def test_following_the_logs_ends_when_the_container_stops(self, driver: Driver) -> None:
        container_id = await driver.create(spec())
        await driver.start(container_id)
        follow = driver.follow_logs(container_id)
        await driver.stop(container_id, grace=1)
        async with asyncio.timeout(30):  # a hang guard: the iterator must end by itself
            assert [chunk async for chunk in follow] == []
        with pytest.raises(ContainerNotFoundError):
            async for _ in driver.follow_logs("minecs-test-never-created"):
                pass

    async def test_stats_of_a_running_container_and_the_bridge_gateway(self, driver: Driver) -> None:
        container_id = await driver.create(spec())
        await driver.start(container_id)
        sample = await driver.stats(container_id)
        assert sample["id"] == container_id
        assert "memory_stats" in sample
        gateway = await driver.bridge_gateway()
        assert gateway is not None
        assert gateway.count(".") == 3  # an IPv4 address the bridge's containers route to
        await driver.stop(container_id, grace=1)

    async def test_the_bridge_gateway_is_found_when_the_network_inspect_has_none(
        self, driver: Driver, first_boot_bridge: None
    ) -> None:
        """A first-boot engine leaves ``Gateway`` out of the bridge's IPAM config (moby #26799)."""
        assert await driver.bridge_gateway() == "172.17.0.1"

    async def test_logs_of_a_container_that_printed_nothing_are_empty(self, driver: Driver) -> None:
        container_id = await driver.create(spec(command=("true",)))
        assert await driver.logs(container_id) == []
        with pytest.raises(ContainerNotFoundError):
            await driver.logs("minecs-test-never-created")

    async def test_exec_streams_input_output_and_the_exit_status(self, driver: Driver) -> None:
        container_id = await driver.create(spec())
        await driver.start(container_id)
        session = await driver.exec(container_id, ["sh", "-c", "cat; echo done >&2; exit 3"], tty=False)
        await session.write(b"hello\n")
        await session.close_input()
        output: list[tuple[int, bytes]] = []
        async with asyncio.timeout(30):
            while (frame := await session.read()) is not None:
                output.append(frame)
            assert await session.wait() == 3
        await session.close()
        assert b"".join(data for stream, data in output if stream == 1) == b"hello\n"
        assert b"".join(data for stream, data in output if stream == 2) == b"done\n"

    async def test_a_hung_up_exec_ends_and_a_stopped_container_refuses_one(self, driver: Driver) -> None:
        container_id = await driver.create(spec())
        await driver.start(container_id)
        session = await driver.exec(container_id, ["cat"], tty=True)
        await session.resize(24, 80)
        async with asyncio.timeout(30):
            assert await session.hang_up()
            while await session.read() is not None:
                pass
            assert await session.wait() == 129  # 128 + SIGHUP, as a shell whose terminal hung up
        await session.close()
        await driver.stop(container_id, grace=1)
        with pytest.raises(ContainerConflictError):
            await driver.exec(container_id, ["true"], tty=False)
