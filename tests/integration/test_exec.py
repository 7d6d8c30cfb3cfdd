"""``minecs exec`` against ``minecs up`` and real containers: piped and terminal sessions, refusals,
the hang-up of an abandoned command, and the agent's audit lines."""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import pty
import select
import socket
import struct
import subprocess
import termios
import time
from typing import Any

import docker
import yaml

from tests.integration.processes import Up

SHELL = {
    "family": "shell",
    "containerDefinitions": [
        {
            "name": "box",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "stopTimeout": 2,
            "command": ["sh", "-c", "trap 'exit 143' TERM; sleep 300 & wait"],
        },
        {
            "name": "side",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "stopTimeout": 2,
            "essential": False,
            "command": ["sh", "-c", "trap 'exit 143' TERM; sleep 300 & wait"],
        },
    ],
}


def _run(up: Up, *flags: str) -> str:
    ran = up.cli("run-task", "shell", "--wait", "-o", "yaml", *flags)
    assert ran.returncode == 0, ran.stderr
    (task,) = yaml.safe_load(ran.stdout)
    return str(task["taskArn"]).rsplit("/", 1)[-1]


def _audit(up: Up, event: str) -> list[dict[str, Any]]:
    assert up.log is not None
    lines = [json.loads(line) for line in up.log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


def test_piped_exec_streams_both_ways_and_returns_the_exit_status(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", SHELL)
    task_id = _run(up, "--enable-execute-command")
    assert up.ok("GET", f"/v1/tasks/{task_id}")["task"]["enableExecuteCommand"] is True

    done = subprocess.run(
        up._command("exec", task_id, "-c", "box", "--", "sh", "-c", "cat; echo done >&2; exit 3"),
        input="hello from stdin\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "hello from stdin\n", "done\n")

    (started,) = _audit(up, "exec started")
    assert started["task"].endswith(task_id)
    assert (started["container"], started["command"], started["tty"]) == (
        "box",
        ["sh", "-c", "cat; echo done >&2; exit 3"],
        False,
    )
    assert started["user"] == f"{getpass.getuser()}@{socket.gethostname()}"
    assert started["principal"] == up.admin().split()[1].split(":")[0]
    (ended,) = _audit(up, "exec ended")
    assert ended["exit_code"] == 3


def test_exec_refuses_what_ecs_refuses_with_its_reasons(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", SHELL)
    plain = _run(up)
    refused = up.cli("exec", plain, "-c", "box", "--", "true")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "minecs: InvalidParameterException: The execute command failed because execute command was not "
        "enabled when the task was run"
    )
    enabled = _run(up, "--enable-execute-command")
    which = up.cli("exec", enabled, "--", "true")
    assert which.returncode == 1
    assert "the task has 2 containers; choose one of box, side." in which.stderr
    missing = up.cli("exec", enabled, "-c", "box", "--", "no-such-program")
    # The engine's refusal to start it comes through as its output and exit status, as docker exec shows it.
    assert missing.returncode == 126
    assert 'exec: "no-such-program": executable file not found' in missing.stdout
    up.cli("stop-task", enabled)
    up.wait_task(enabled, "STOPPED")
    stopped = up.cli("exec", enabled, "-c", "box", "--", "true")
    assert (stopped.returncode, stopped.stderr.strip()) == (
        1,
        "minecs: InvalidParameterException: The task is STOPPED; a command runs only in a RUNNING task.",
    )


def test_a_terminal_session_is_interactive_and_follows_the_window_size(up: Up) -> None:
    up.ok("POST", "/v1/taskdefinitions", SHELL)
    task_id = _run(up, "--enable-execute-command")
    controller, terminal = pty.openpty()
    os.set_blocking(controller, True)
    # A 30x100 window; the remote terminal must report the same size.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    session = subprocess.Popen(
        up._command("exec", task_id, "-c", "box", "--", "sh"),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        _read_until(controller, b"/ # ")  # type at the prompt, as a person does
        os.write(controller, b"echo product=$((6*7)); stty size\r")
        seen = _read_until(controller, b"30 100")
        assert b"product=42" in seen
        os.write(controller, b"exit 5\r")
        assert session.wait(timeout=30) == 5
    finally:
        session.kill()
        session.wait(timeout=10)
        os.close(controller)
    (started,) = _audit(up, "exec started")
    assert (started["command"], started["tty"]) == (["sh"], True)


def _read_until(fd: int, wanted: bytes, within: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {wanted!r}; saw {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 4096)
    return seen


def test_an_abandoned_command_is_hung_up(up: Up, docker_client: docker.DockerClient) -> None:
    up.ok("POST", "/v1/taskdefinitions", SHELL)
    task_id = _run(up, "--enable-execute-command")
    session = subprocess.Popen(
        up._command("exec", task_id, "-c", "box", "--", "sleep", "417"),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (box,) = [
        c
        for c in docker_client.containers.list(filters={"label": "com.amazonaws.ecs.container-name=box"})
        if c.labels["com.amazonaws.ecs.task-arn"].endswith(task_id)
    ]

    def sleeping() -> bool:
        return any("sleep 417" in " ".join(p) for p in box.top()["Processes"])

    up.wait(lambda: sleeping() or None, 30, "the exec'd command running")
    with session:
        session.kill()  # the caller vanishes without a word
    up.wait(lambda: (not sleeping()) or None, 30, "the abandoned command hung up")
    (ended,) = up.wait(lambda: _audit(up, "exec ended") or None, 30, "the audit line")
    assert ended["hung_up"] is True
    assert box.status == "running"  # only the command ended; the task's container runs on


def test_the_command_starts_at_the_first_word_after_the_task_without_double_dash(up: Up) -> None:
    """``minecs exec TASK sh -c 'echo hi'``: -c belongs to sh there; exec's -c goes before the command."""
    up.ok("POST", "/v1/taskdefinitions", SHELL)
    task_id = _run(up, "--enable-execute-command")
    said = up.cli("exec", task_id, "-c", "box", "sh", "-c", "echo hi; echo there >&2")
    assert (said.returncode, said.stdout, said.stderr) == (0, "hi\n", "there\n")
    before = up.cli("exec", "-c", "box", task_id, "sh", "-c", "exit 4")
    assert before.returncode == 4, before.stderr
    still = up.cli("exec", task_id, "-c", "box", "--", "echo", "-c")  # and '--' works as it did
    assert (still.returncode, still.stdout) == (0, "-c\n"), still.stderr
