"""The daemons' manners (issue 21, points 6 and 7), their pure and in-process parts: who holds a
port, the data dir's lock, the agent's ports chosen or defaulted, the words for an unreachable
controller, and a first start without a token. ``tests/integration/test_daemon_manners.py`` runs
the daemons themselves."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import structlog.testing
from aiohttp import web

from agent.endpoints.server import SmallServer
from agent.link.client import ControllerClient
from agent.link.registration import require_token
from minecs import cli, settings
from minecs.cli.daemons import with_flags
from minecs.datadir import LOCK_FILE, in_use, lock
from minecs.errors import (
    ControllerUnavailableError,
    DataDirInUseError,
    PortTakenError,
    SettingsError,
    TokenMissingError,
)
from minecs.ports import Holder, holder_of, listening_inodes, named, port_taken, socket_inode
from tests.conftest import free_port

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1D1E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0
   1: 0100007F:1D1E 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1 0 100 0 0 10 0
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1D1E 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5151 1 0 100 0 0 10 0
"""


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port this test process listens on, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


# ------------------------------------------------------------------ who holds a port


def test_only_listening_sockets_on_the_port_are_its_holders() -> None:
    assert listening_inodes(TCP, 0x1D1E) == {4242}  # the ESTABLISHED one (st 01) is a client
    assert listening_inodes(TCP, 22) == {17}
    assert listening_inodes(TCP6, 7454) == {5151}
    assert listening_inodes(TCP, 80) == set()


def test_a_descriptor_is_a_socket_only_by_its_link_text() -> None:
    assert socket_inode("socket:[4242]") == 4242
    assert socket_inode("pipe:[4242]") is None
    assert socket_inode("/var/lib/minecs/minecs.db") is None


def test_the_holder_is_found_through_proc_as_a_process_with_the_socket_open(tmp_path: Path) -> None:
    """A /proc tree as the kernel lays it out: net/tcp, and a process whose fd links to the socket."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(TCP)
    (tmp_path / "net" / "tcp6").write_text(TCP6)
    for pid, comm, inode in (("812", "sshd", 17), ("4040", "node_exporter", 4242), ("self", "x", 4242)):
        (tmp_path / pid / "fd").mkdir(parents=True)
        (tmp_path / pid / "comm").write_text(f"{comm}\n")
        (tmp_path / pid / "fd" / "3").symlink_to(f"socket:[{inode}]")
    assert holder_of(7454, proc=tmp_path) == Holder("node_exporter", 4040)
    assert holder_of(22, proc=tmp_path) == Holder("sshd", 812)
    assert holder_of(80, proc=tmp_path) is None


def test_this_host_names_the_process_listening(held_port: int) -> None:
    found = holder_of(held_port)
    assert found is not None
    assert found.pid == os.getpid()
    assert found.name == Path(f"/proc/{os.getpid()}/comm").read_text().strip()


def test_the_message_names_the_port_the_holder_and_the_flag() -> None:
    error = port_taken("metrics", "127.0.0.1", 1, "--metrics-port")
    assert error.port == 1
    assert error.message.startswith("metrics cannot listen on 127.0.0.1:1: the port is taken by ")
    assert error.message.endswith("; stop it or choose another with --metrics-port")
    assert named(Holder("python", 4242)) == "python (pid 4242)"
    assert named(None) == "another process"
    assert "this process" in named(Holder("pytest", os.getpid()))


# ------------------------------------------------------------------ the agent's small servers


async def test_a_chosen_port_that_is_taken_stops_the_server_naming_the_holder(held_port: int) -> None:
    server = SmallServer(web.Application(), what="introspection API", flag="--introspection-port")
    with pytest.raises(PortTakenError) as raised:
        await server.start(held_port, default=51678)
    assert f"127.0.0.1:{held_port}" in raised.value.message
    assert f"(pid {os.getpid()})" in raised.value.message
    assert "--introspection-port" in raised.value.message
    await server.stop()  # nothing left to stop: start cleaned up after itself


async def test_a_default_port_that_is_taken_falls_back_to_a_free_one_with_a_warning(held_port: int) -> None:
    server = SmallServer(web.Application(), what="metrics")
    with structlog.testing.capture_logs() as logged:
        bound = await server.start(None, default=held_port)
    try:
        assert bound not in (held_port, 0)
        (warning,) = [e for e in logged if e["event"] == "default port taken; using a free one"]
        assert (warning["port"], warning["what"]) == (held_port, "metrics")
    finally:
        await server.stop()


async def test_a_port_not_taken_is_the_port_bound() -> None:
    wanted = free_port()
    server = SmallServer(web.Application(), what="metrics")
    try:
        assert await server.start(wanted, default=51680) == wanted
    finally:
        await server.stop()


# ------------------------------------------------------------------ one daemon per data dir


def test_a_second_lock_on_a_data_dir_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with lock(tmp_path, "minecs up"):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} minecs up\n"
        with pytest.raises(DataDirInUseError) as raised, lock(tmp_path, "minecs agent-static"):
            pass
    assert raised.value.message == (
        f"data dir {tmp_path} is in use by minecs up (pid {os.getpid()}); "
        "stop it first, or give this one its own --data-dir"
    )
    assert (tmp_path / LOCK_FILE).read_text() == ""
    with lock(tmp_path, "minecs controller"):  # released: the next daemon gets it
        pass


def test_a_lock_file_without_a_pid_still_gives_a_sentence(tmp_path: Path) -> None:
    assert "in use by another minecs process" in in_use(tmp_path, "")


def test_the_lock_of_a_killed_daemon_is_free_at_once(tmp_path: Path) -> None:
    """kill -9 leaves the file with its pid, but the kernel has released the flock."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from minecs.datadir import lock\n"
            "with lock(Path(sys.argv[1]), 'minecs up'):\n    print('held', flush=True); time.sleep(600)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(DataDirInUseError, match=f"pid {holder.pid}"), lock(tmp_path, "minecs up"):
            pass
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert (tmp_path / LOCK_FILE).read_text() == f"{holder.pid} minecs up\n"
    with lock(tmp_path, "minecs up"):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} minecs up\n"


# ------------------------------------------------------------------ flags and settings


def _parsed(*words: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(words))


@pytest.mark.parametrize("command", ["up", "agent"])
def test_every_agent_port_flag_sets_its_setting(command: str) -> None:
    args = _parsed(
        command,
        "--metadata-port",
        "1001",
        "--introspection-port",
        "1002",
        "--metrics-port",
        "0",
        "--metrics-address",
        "0.0.0.0",
    )
    agent = with_flags(args, settings.Settings()).agent
    assert (agent.metadata_port, agent.introspection_port, agent.metrics_port) == (1001, 1002, 0)
    assert agent.metrics_address == "0.0.0.0"


def test_agent_ports_not_given_keep_the_settings() -> None:
    config = settings.load(environ={"MINECS_AGENT_METRICS_PORT": "9100"})
    agent = with_flags(_parsed("agent"), config).agent
    assert (agent.metadata_port, agent.introspection_port, agent.metrics_port) == (None, None, 9100)
    assert agent.metrics_address == "127.0.0.1"


def test_an_empty_metrics_address_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"agent\.metrics_address"):
        settings.load(environ={"MINECS_AGENT_METRICS_ADDRESS": ""})


@pytest.mark.parametrize("command", ["up", "controller", "agent", "agent-static"])
def test_log_format_flag_wins_over_the_setting(command: str) -> None:
    words = ["--tasks", "t", "--data-dir", "d"] if command == "agent-static" else []
    config = settings.load(environ={"MINECS_LOG_FORMAT": "json"})
    assert cli._with_log_format(_parsed(command, *words, "--log-format", "console"), config).log.format == (
        "console"
    )
    assert cli._with_log_format(_parsed(command, *words), config).log.format == "json"


# ------------------------------------------------------------------ the agent and its controller


def test_a_first_start_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(TokenMissingError) as raised:
        require_token(tmp_path, None)
    assert "needs a registration token" in raised.value.message
    assert "'minecs token create'" in raised.value.message
    assert "--token" in raised.value.message
    require_token(tmp_path, "mcr-x")
    (tmp_path / "instance.json").write_text("{}")
    require_token(tmp_path, None)  # registered before: it signs in with its identity


async def test_an_unreachable_controller_is_said_in_words_not_a_connection_key() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    async with aiohttp.ClientSession() as session:
        client = ControllerClient(endpoint, session)
        with pytest.raises(ControllerUnavailableError) as raised:
            await client.register({}, token="mcr-x", identity=None)
    assert raised.value.message == f"controller {endpoint} unreachable: connection refused"
