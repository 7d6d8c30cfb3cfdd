"""The systemd notify client: datagrams to $NOTIFY_SOCKET (path or abstract), watchdog timing."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from minecs.sdnotify import notify, watchdog, watchdog_interval


def test_ready_reaches_a_socket_by_path_and_in_the_abstract_namespace(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        assert notify("READY=1", {"NOTIFY_SOCKET": path})
        assert server.recv(64) == b"READY=1"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        name = f"minecs-test-{os.getpid()}"
        server.bind("\0" + name)
        assert notify("STOPPING=1", {"NOTIFY_SOCKET": "@" + name})
        assert server.recv(64) == b"STOPPING=1"


def test_without_systemd_nothing_is_sent_and_a_dead_socket_is_not_fatal(tmp_path: Path) -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})


def test_watchdog_pings_at_half_the_interval_for_this_process_only(tmp_path: Path) -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "4000000"}) == 2.0
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}) is None  # another process's
    assert watchdog_interval({}) is None
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.setblocking(False)
        pings: list[bytes] = []

        async def run() -> None:
            stop = asyncio.Event()
            environ = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"}
            pinging = asyncio.create_task(watchdog(stop, environ))
            async with asyncio.timeout(10):  # a hang guard, not a timing assertion
                while len(pings) < 3:
                    await asyncio.sleep(0.01)
                    try:
                        pings.append(server.recv(64))
                    except BlockingIOError:
                        continue
            stop.set()
            await pinging

        asyncio.run(run())
    assert pings == [b"WATCHDOG=1"] * 3
