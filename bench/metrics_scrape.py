"""Measure 4: the agent's ``/metrics`` with 100 running containers, against Docker's stats API for the same.

minecs: one HTTP scrape of the agent's ``/metrics`` (every container's CPU, memory, block IO and
network, read from cgroup and proc files). Baseline: the same containers' numbers through the Docker
stats API, ``stats(stream=False, one_shot=True)`` for every container from 8 threads, as an exporter
built on the Docker API would do it. Rounds are interleaved. Measured here (Docker 20.10): a one-shot
call waits for the engine's next one-second stats cycle, about 0.9 s, so one container at a time
takes about 90 s for 100; that sequential figure is printed once, in the notes, not used as the
baseline. Goal: scrape p50 <= 100 ms and >= 20x faster than the Docker API.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker

from bench.common import Result, interleaved, quick, record, spread
from bench.upctl import UpProcess

TASKS = 20 if quick() else 100
IDLE = {
    "family": "idle",
    "containerDefinitions": [
        {
            "name": "idle",
            "image": "minecs/busybox:latest",
            "memory": 8,
            "stopTimeout": 1,
            "command": ["sleep", "3600"],
        }
    ],
}


def _record(ours: list[float], theirs: list[float], docker_stats: Callable[[], float]) -> None:
    """Record the rounds' spread and ratio in bench/results/metrics_scrape.json and print its line."""
    mine, base = spread([x * 1000 for x in ours]), spread([x * 1000 for x in theirs])
    ratio = base.median / mine.median
    sequential = "not measured (quick)" if quick() else f"{docker_stats() * 1000:.0f} ms"
    record(
        "metrics_scrape",
        Result(
            measure=f"4. metrics scrape, {TASKS} containers",
            unit="ms",
            minecs=mine,
            baseline=base,
            baseline_name="Docker stats API (one-shot, 8 threads)",
            ratio=ratio,
            goal="p50 <= 100 ms and >= 20x",
            met=mine.median <= 100 and ratio >= 20,
            notes=f"Docker stats API one container at a time: {sequential}",
        ),
    )


def main() -> None:
    up = UpProcess()
    try:
        up.call("POST", "/v1/taskdefinitions", IDLE)
        for _ in range(TASKS // 10):
            up.call("POST", "/v1/tasks", {"taskDefinition": "idle", "count": 10})
        deadline = time.monotonic() + 600
        while len(up.running()) < TASKS:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {TASKS} tasks did not all start")
            time.sleep(1)
        ids = [c["runtimeId"] for t in up.running() for c in t["containers"]]
        client = docker.APIClient(version="auto")
        url = f"http://127.0.0.1:{up.metrics_port}/metrics"

        def scrape() -> float:
            began = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as response:
                body = response.read()
            assert body.count(b"ecs_container_cpu_usage_seconds_total{") == TASKS
            return time.perf_counter() - began

        def docker_stats() -> float:
            began = time.perf_counter()
            for cid in ids:
                client.stats(cid, stream=False, one_shot=True)
            return time.perf_counter() - began

        def docker_stats_8() -> float:
            began = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda cid: client.stats(cid, stream=False, one_shot=True), ids))
            return time.perf_counter() - began

        scrape()  # warm the cgroup-directory cache, as a steady scraper does
        ours, theirs = interleaved(scrape, docker_stats_8, 3 if quick() else 6)
        _record(ours, theirs, docker_stats)
    finally:
        up.stop()


if __name__ == "__main__":
    main()
