"""``minecs logs`` from the user's side: the container it picks by itself, and a service's tasks
merged with their ids in front, followed until Ctrl-C, tasks started meanwhile included."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from typing import Any

import yaml

from tests.integration.processes import Up
from tests.integration.test_services import manifests
from tests.taskdefs import container, web

TALK = ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]
TALKER = container("talk", memory=16, stopTimeout=2, command=TALK)
PREFIXED = re.compile(r"^([0-9a-f]{8}) \| tick \d+$")


def _run(up: Up, family: str) -> str:
    ran = up.cli("run-task", family, "--wait", "-o", "yaml")
    assert ran.returncode == 0, ran.stderr
    (task,) = yaml.safe_load(ran.stdout)
    return str(task["taskArn"]).rsplit("/", 1)[-1]


def test_logs_show_the_only_essential_container_and_ask_for_c_when_there_are_two(up: Up) -> None:
    sidecar = web(essential=False)
    up.ok(
        "POST", "/v1/taskdefinitions", {"family": "one-essential", "containerDefinitions": [TALKER, sidecar]}
    )
    both = {"family": "two-essential", "containerDefinitions": [TALKER, web()]}
    up.ok("POST", "/v1/taskdefinitions", both)
    chosen = _run(up, "one-essential")
    up.wait(lambda: up.cli("logs", chosen, "--tail", "2").stdout.count("tick") == 2, 30, "two ticks")

    shown = up.cli("logs", chosen, "--tail", "2")
    assert shown.returncode == 0, shown.stderr
    assert [line.split()[0] for line in shown.stdout.splitlines()] == ["tick", "tick"]
    assert shown.stderr.strip() == (
        'minecs: showing container "talk" (the task\'s only essential container); -c picks another'
    )
    picked = up.cli("logs", chosen, "-c", "web", "--tail", "2")
    assert (picked.returncode, picked.stderr) == (0, "")  # -c: no word about the choice

    ambiguous = up.cli("logs", _run(up, "two-essential"))
    assert ambiguous.returncode == 1
    assert ambiguous.stderr.strip() == (
        "minecs: logs: the task has 2 containers, 2 of them essential; choose one with -c: talk, web"
    )


class Lines(threading.Thread):
    """Every line a follower prints, collected as it arrives (a test never blocks on a read)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.process, self.lines = process, list[str]()

    def run(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def prefixes(self) -> set[str]:
        return {m.group(1) for line in list(self.lines) if (m := PREFIXED.match(line))}


def _task_ids(up: Up, service: str) -> set[str]:
    return {str(t["taskArn"]).rsplit("/", 1)[-1] for t in up.live(f"service:{service}")}


def test_a_services_logs_are_its_tasks_lines_prefixed_and_follow_picks_up_new_tasks(up: Up) -> None:
    up.ok("POST", "/v1/apply", {"documents": manifests("chatter", TALKER, {"desiredCount": 2})})
    up.wait_steady("chatter")
    first = _task_ids(up, "chatter")

    recent = up.cli("logs", "service/chatter", "--tail", "3")
    assert recent.returncode == 0, recent.stderr
    matched = [PREFIXED.match(line) for line in recent.stdout.splitlines()]
    assert all(matched), recent.stdout  # every line is 'TASKID8 | tick N', nothing else
    counts: dict[str, int] = {}
    for found in matched:
        assert found is not None
        counts[found.group(1)] = counts.get(found.group(1), 0) + 1
    assert counts == {task_id[:8]: 3 for task_id in first}

    with up.follow("logs", "-f", "svc/chatter", "--tail", "1") as follower:
        lines = Lines(follower)
        lines.start()
        try:
            up.wait(lambda: lines.prefixes() == {t[:8] for t in first}, 30, "both tasks' lines")
            scaled = up.cli("scale", "chatter", "3")
            assert scaled.returncode == 0, scaled.stderr
            up.wait(lambda: len(_task_ids(up, "chatter")) == 3, 60, "a third task")
            (third,) = _task_ids(up, "chatter") - first
            # The task started during the follow shows up, from its first line.
            up.wait(lambda: third[:8] in lines.prefixes(), 30, "the new task's lines")
            assert f"{third[:8]} | tick 1" in lines.lines
        finally:
            follower.send_signal(signal.SIGINT)  # Ctrl-C
            code = follower.wait(timeout=30)
            lines.join(timeout=30)
    assert code == 130
    said: list[Any] = [line for line in lines.lines if not PREFIXED.match(line)]
    assert said == []


LATE = container(
    "late",
    memory=16,
    stopTimeout=2,
    command=["sh", "-c", "trap 'exit 0' TERM; sleep 20; echo late; sleep 3600 & wait"],
)


def test_following_a_container_that_has_said_nothing_yet_waits_for_its_first_line(up: Up) -> None:
    """Longer than the 15 s a caller waits for the agent to pick a request up: the agent's answer
    must arrive before the container's first line (it did not, and the follow ended in an error)."""
    up.ok("POST", "/v1/taskdefinitions", {"family": "late", "containerDefinitions": [LATE]})
    task_id = _run(up, "late")
    with up.follow("logs", "-f", task_id) as follower:
        lines = Lines(follower)
        lines.start()
        try:
            up.wait(lambda: "late" in lines.lines or follower.poll() is not None, 60, "the late line")
            assert follower.poll() is None, lines.lines
        finally:
            follower.send_signal(signal.SIGINT)
            code = follower.wait(timeout=30)
            lines.join(timeout=30)
    assert (code, lines.lines) == (130, ["late"])
