"""The shared test helpers themselves behave: wait_until returns or fails with the last value."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import free_port, wait_until


async def test_wait_until_returns_the_first_value_that_satisfies() -> None:
    counter = itertools.count()

    async def observe() -> int:
        return next(counter)

    assert await wait_until(observe, lambda n: n >= 3, within=5, interval=0) == 3


async def test_wait_until_fails_showing_the_last_observed_value() -> None:
    async def observe() -> str:
        return "PENDING"

    with pytest.raises(pytest.fail.Exception, match="waiting for task RUNNING; last observed: 'PENDING'"):
        await wait_until(observe, lambda s: s == "RUNNING", within=0.05, interval=0.01, what="task RUNNING")


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    assert 1024 < port < 65536
