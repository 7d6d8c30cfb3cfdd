"""Measure 1: task launch overhead. RunTask -> RUNNING for a one-container task, against the raw
Docker SDK creating and starting the very same container configuration.

minecs: ``POST /v1/tasks``, then the task is polled every 5 ms until the controller shows it RUNNING
(the agent has created and started the container, seen it running and reported it). Baseline: the
configuration minecs gave that container (image, command, environment, labels, host config), read
back with ``docker inspect`` and replayed with ``create_container`` + ``start`` under a new name.
Rounds are interleaved; each round's task is stopped (untimed) before the next. The ratio is
minecs / baseline (lower is better). Goal: <= 1.15x.
"""

from __future__ import annotations

import itertools
import secrets
import statistics
import time
from typing import Any

import docker

from agent.runtime.base import parse_docker_time
from bench.common import LABEL, Result, interleaved, quick, record, spread
from bench.upctl import UpProcess

ONE = {
    "family": "one",
    "containerDefinitions": [
        {
            "name": "one",
            "image": "minecs/busybox:latest",
            "memory": 16,
            "stopTimeout": 1,
            "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
        }
    ],
}


PHASES = (
    "placed + assigned + provisioned",  # task createdAt -> pullStartedAt
    "image check",  # pullStartedAt -> pullStoppedAt
    "state write + create call",  # pullStoppedAt -> Docker's Created
    "Docker: created -> process started",  # Created -> State.StartedAt
    "start returns + inspect + RUNNING",  # StartedAt -> the task's startedAt (the agent saw it running)
    "reported + seen",  # the task's startedAt -> the controller shows RUNNING
)
BASELINE_PHASES = (
    "create call",  # the call -> Docker's Created
    "Docker: created -> process started",  # Created -> State.StartedAt
    "start returns",  # StartedAt -> start() returned
)


def docker_time(value: str) -> float:
    """Docker's RFC 3339 nanosecond timestamp as epoch seconds (the agent's own parser)."""
    parsed = parse_docker_time(value)
    if parsed is None:
        raise ValueError(f"no time in {value!r}")
    return parsed.timestamp()


def docker_marks(client: docker.APIClient, container_id: str) -> tuple[float, float]:
    found = client.inspect_container(container_id)
    return docker_time(found["Created"]), docker_time(found["State"]["StartedAt"])


def task_marks(client: docker.APIClient, shown: dict[str, Any], seen: float) -> list[float]:
    """Where the time went, from the task's and Docker's timestamps (epoch seconds, one clock)."""
    created, process_started = docker_marks(client, shown["containers"][0]["runtimeId"])
    return [
        shown["createdAt"],
        shown["pullStartedAt"],
        shown["pullStoppedAt"],
        created,
        process_started,
        shown["startedAt"],
        seen,
    ]


def replay_config(client: docker.APIClient, container_id: str) -> dict[str, Any]:
    """What minecs asked Docker for, as create_container arguments (a fresh name, the bench label)."""
    found = client.inspect_container(container_id)
    config, host = found["Config"], found["HostConfig"]
    host_config = client.create_host_config(
        mem_limit=host.get("Memory") or None,
        cpu_shares=host.get("CpuShares") or None,
        log_config=host.get("LogConfig"),
        network_mode=host.get("NetworkMode"),
        init=host.get("Init"),
    )
    return {
        "image": config["Image"],
        "command": config["Cmd"],
        "environment": config.get("Env") or [],
        "labels": {**(config.get("Labels") or {}), LABEL.split("=")[0]: "1"},
        "host_config": host_config,
        "stop_signal": config.get("StopSignal"),
    }


def _record(
    ours: list[float],
    theirs: list[float],
    phases: dict[str, list[float]],
    baseline_phases: dict[str, list[float]],
) -> None:
    """Record the rounds' spread and ratio in bench/results/launch.json and print its line."""
    mine, base = spread([x * 1000 for x in ours]), spread([x * 1000 for x in theirs])
    ratio = mine.median / base.median
    record(
        "launch",
        Result(
            measure="1. task launch, RunTask -> RUNNING",
            unit="ms",
            minecs=mine,
            baseline=base,
            baseline_name="Docker SDK create+start, same config",
            ratio=ratio,
            goal="<= 1.15x",
            met=ratio <= 1.15,
            notes="ratio is minecs / baseline (lower is better); median ms per phase: "
            + ", ".join(f"{name} {statistics.median(values):.0f}" for name, values in phases.items())
            + "; the baseline's: "
            + ", ".join(f"{name} {statistics.median(v):.0f}" for name, v in baseline_phases.items()),
        ),
    )


def main() -> None:
    up = UpProcess()
    client = docker.APIClient(version="auto")
    try:
        up.call("POST", "/v1/taskdefinitions", ONE)

        phases: dict[str, list[float]] = {name: [] for name in PHASES}
        baseline_phases: dict[str, list[float]] = {name: [] for name in BASELINE_PHASES}

        def run_minecs() -> float:
            began = time.perf_counter()
            (task,) = up.call("POST", "/v1/tasks", {"taskDefinition": "one"})["tasks"]
            task_id = task["taskArn"].rsplit("/", 1)[-1]
            while (shown := up.call("GET", f"/v1/tasks/{task_id}")["task"])["lastStatus"] != "RUNNING":
                time.sleep(0.005)
            took = time.perf_counter() - began
            seen = time.time()
            marks = task_marks(client, shown, seen)
            for name, (a, b) in zip(PHASES, itertools.pairwise(marks), strict=True):
                phases[name].append((b - a) * 1000)
            up.call("POST", f"/v1/tasks/{task_id}/stop", {"reason": "bench round over"})
            up.wait_status(task_id, "STOPPED")
            return took

        run_minecs()  # the first launch also warms the image cache and the agent
        template = replay_config(client, up.running_container_ids(every=True)[0])

        def run_docker() -> float:
            began, began_at = time.perf_counter(), time.time()
            created = client.create_container(name=f"bench-launch-{secrets.token_hex(4)}", **template)
            client.start(created["Id"])
            took = time.perf_counter() - began
            marks = [began_at, *docker_marks(client, created["Id"]), began_at + took]
            for name, (a, b) in zip(BASELINE_PHASES, itertools.pairwise(marks), strict=True):
                baseline_phases[name].append((b - a) * 1000)
            client.remove_container(created["Id"], force=True)
            return took

        ours, theirs = interleaved(run_minecs, run_docker, 4 if quick() else 20)
        _record(ours, theirs, phases, baseline_phases)
    finally:
        up.stop()


if __name__ == "__main__":
    main()
