"""Issue 21, points 6 and 7, from the user's side: the daemons run as processes, their output read as
text. Human log lines when asked, JSON under a pipe; a taken port is one line naming its holder;
an unreachable controller is one line with the endpoint and the retry wait; one daemon per data
dir; the agent's ports are flags, logged in one line; a first start without a token says how to
get one."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.integration.processes import AGENT_OPTIONS, Minecs, Up


class Daemon:
    """``minecs ARGS`` as a process whose stderr lines the test reads as they come."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> None:
        environment = {k: v for k, v in os.environ.items() if k not in drop}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "minecs.cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**environment, **(env or {})},
        )
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def line(self, wanted: Callable[[str], bool], within: float = 60) -> str:
        """The next stderr line ``wanted`` holds for; a failure shows every line seen."""
        deadline = time.monotonic() + within
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"no such line within {within} s; seen: {self.seen[-20:]}")
            if line is None:
                pytest.fail(f"exited {self.process.wait()} before such a line; seen: {self.seen[-20:]}")
            self.seen.append(line)
            if wanted(line):
                return line

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code


def minecs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``minecs ARGS`` run to its end (bounded, so a daemon that wrongly starts cannot hang the test)."""
    return subprocess.run(
        [sys.executable, "-m", "minecs.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


@contextlib.contextmanager
def port_held_by_python() -> Iterator[tuple[int, int, str]]:
    """A port another python process listens on: (port, its pid, its command name)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, time\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "print(s.getsockname()[1], flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        port = int(holder.stdout.readline())
        yield port, holder.pid, Path(f"/proc/{holder.pid}/comm").read_text().strip()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def until(check: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: never happened"
        time.sleep(0.1)


def is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def one_line_naming(stderr: str, *words: str) -> str:
    found = [line for line in stderr.splitlines() if all(w in line for w in words)]
    assert len(found) == 1, stderr
    return found[0]


# ------------------------------------------------------------------ 6a: log format


def test_log_format_console_gives_human_lines_over_a_json_setting(tmp_path: Path) -> None:
    port = free_port()
    controller = Daemon(
        "controller",
        *("--port", str(port), "--data-dir", str(tmp_path), "--log-format", "console"),
        env={"MINECS_LOG_FORMAT": "json"},
    )
    try:
        line = controller.line(lambda text: "controller listening" in text)
        assert not is_json(line), line
        assert f"endpoint=http://127.0.0.1:{port}" in line
        assert not any(is_json(seen) for seen in controller.seen), controller.seen
    finally:
        assert controller.stop() == 0


def test_under_a_pipe_the_daemon_logs_json_lines_by_default(tmp_path: Path) -> None:
    port = free_port()
    controller = Daemon(
        "controller", "--port", str(port), "--data-dir", str(tmp_path), drop=("MINECS_LOG_FORMAT",)
    )
    try:
        line = controller.line(lambda text: "controller listening" in text)
        assert json.loads(line)["endpoint"] == f"http://127.0.0.1:{port}"
        assert all(is_json(seen) for seen in controller.seen), controller.seen
    finally:
        assert controller.stop() == 0


# ------------------------------------------------------------------ 6b: a port taken


def test_a_taken_controller_port_is_one_line_naming_the_port_and_its_holder(tmp_path: Path) -> None:
    with port_held_by_python() as (port, pid, name):
        done = minecs("controller", "--port", str(port), "--data-dir", str(tmp_path))
    assert "python" in name
    assert done.returncode != 0
    line = one_line_naming(done.stderr, f"127.0.0.1:{port}")
    assert f"the port is taken by {name} (pid {pid})" in line, line
    assert "--port" in line
    assert "Traceback" not in done.stderr


def test_an_agent_port_chosen_and_taken_stops_minecs_up_with_one_line(tmp_path: Path) -> None:
    with port_held_by_python() as (port, pid, name):
        done = minecs(
            "up",
            *("--data-dir", str(tmp_path / "minecs"), "--port", str(free_port())),
            *("--metrics-port", str(free_port()), "--introspection-port", str(port)),
            *AGENT_OPTIONS,
        )
    assert done.returncode != 0
    line = one_line_naming(done.stderr, f"minecs: introspection API cannot listen on 127.0.0.1:{port}")
    assert f"the port is taken by {name} (pid {pid})" in line, line
    assert "--introspection-port" in line
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ 6c: controller unreachable


def test_an_unreachable_controller_is_one_line_with_its_endpoint_and_the_retry_wait(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    agent = Daemon(
        "agent",
        *("--endpoint", endpoint, "--token", "mcr-test", "--data-dir", str(tmp_path)),
        *("--log-format", "console"),
    )
    try:
        lines = [agent.line(lambda text: "controller unreachable" in text) for _ in range(2)]
        for line, wait in zip(lines, ("1.0", "2.0"), strict=True):  # agent.backoff_start, doubling
            assert f"controller {endpoint} unreachable: connection refused" in line, line
            assert f"retry_in_seconds={wait}" in line, line
        assert not [seen for seen in agent.seen if "ConnectionKey" in seen or "Traceback" in seen]
    finally:
        assert agent.stop() == 0


# ------------------------------------------------------------------ 6d: one daemon per data dir


def test_a_second_daemon_on_a_data_dir_in_use_says_so_at_once(up: Up) -> None:
    """A second up, a controller on up's data dir and an agent on up's agent dir: each refused."""
    pid = up.process.pid
    for args, data_dir in (
        (("up", "--port", str(free_port()), *AGENT_OPTIONS), up.data_dir),
        (("controller", "--port", str(free_port())), up.data_dir),
        (("agent", "--endpoint", up.endpoint), up.data_dir / "agent"),
    ):
        done = minecs(*args, "--data-dir", str(data_dir))
        assert done.returncode != 0, done.stderr
        line = one_line_naming(done.stderr, f"data dir {data_dir} is in use by minecs up (pid {pid})")
        assert line.startswith("minecs: "), line
    assert len(up.instances()) == 1  # the first up is untouched
    assert up.process.poll() is None


def test_a_second_agent_static_on_its_data_dir_says_so(tmp_path: Path) -> None:
    tasks, data_dir = tmp_path / "tasks", tmp_path / "static"
    tasks.mkdir()
    options = ("--tasks", str(tasks), "--data-dir", str(data_dir), *AGENT_OPTIONS)
    first = Daemon("agent-static", *options)
    try:
        lock_file = data_dir / "minecs.lock"
        until(
            lambda: lock_file.exists() and lock_file.read_text().startswith(f"{first.process.pid} "),
            "the first agent-static holding its lock",
        )
        done = minecs("agent-static", *options)
        assert done.returncode != 0
        one_line_naming(
            done.stderr, f"data dir {data_dir} is in use by minecs agent-static (pid {first.process.pid})"
        )
    finally:
        assert first.stop() == 0


# ------------------------------------------------------------------ 7a and 7c: the agent's ports, its token


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_agent_logs_the_ports_chosen_in_one_line_and_answers_on_them(tmp_path: Path) -> None:
    port = free_port()
    controller = Daemon("controller", "--port", str(port), "--data-dir", str(tmp_path / "controller"))
    agent: Daemon | None = None
    try:
        controller.line(lambda text: "controller listening" in text)
        made = Minecs(tmp_path / "controller", port).cli("token", "create")
        assert made.returncode == 0, made.stderr
        metadata, introspection, metrics = free_port(), free_port(), free_port()
        agent = Daemon(
            "agent",
            *("--endpoint", f"http://127.0.0.1:{port}", "--token", made.stdout.strip()),
            *("--data-dir", str(tmp_path / "agent"), *AGENT_OPTIONS),
            *("--metadata-port", str(metadata), "--introspection-port", str(introspection)),
            *("--metrics-port", str(metrics), "--metrics-address", "127.0.0.1"),
            env={"MINECS_LOG_FORMAT": "json"},
        )
        listening = json.loads(agent.line(lambda text: '"agent listening"' in text))
        assert listening["metadata"] == f"http://127.0.0.1:{metadata}"
        assert listening["introspection"] == f"http://127.0.0.1:{introspection}"
        assert listening["metrics"] == f"http://127.0.0.1:{metrics}/metrics"
        status, body = _get(f"http://127.0.0.1:{introspection}/v1/metadata")
        assert status == 200, body
        assert json.loads(body)["ContainerInstanceArn"].startswith("arn:aws:ecs:")
        status, body = _get(f"http://127.0.0.1:{metrics}/metrics")
        assert (status, "minecs_agent_" in body) == (200, True), body[:500]
        status, body = _get(f"http://127.0.0.1:{metadata}/v4/nosuchid")
        assert status == 404
        assert json.loads(body).startswith("V4 container metadata handler: ")
    finally:
        if agent is not None:
            assert agent.stop() == 0
        assert controller.stop() == 0


def test_an_agent_on_an_empty_data_dir_without_a_token_says_a_token_is_needed(tmp_path: Path) -> None:
    done = minecs("agent", "--endpoint", f"http://127.0.0.1:{free_port()}", "--data-dir", str(tmp_path))
    assert done.returncode == 1
    line = one_line_naming(done.stderr, "needs a registration token")
    assert line.startswith("minecs: "), line
    assert "'minecs token create'" in line
    assert "--token" in line
    assert "not valid" not in done.stderr
