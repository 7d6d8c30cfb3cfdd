"""Measure 3: scale-out. A service from 0 to 40 tasks RUNNING, against raw Docker creating and starting
40 containers of the same configuration from 8 threads.

minecs: ``desiredCount`` 0 -> 40 (``PATCH /v1/services``), timed until the service shows 40 running
(placed, started by the agent, reported). Baseline: the configuration minecs gave one of those
containers, replayed 40 times with ``create_container`` + ``start`` on a pool of 8 threads. Both are
reported as tasks per second; the ratio is minecs / baseline throughput (higher is better). Between
rounds the service is scaled back to 0 and its tasks stopped, untimed. Goal: >= 0.9x.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import docker

from bench.common import Result, interleaved, quick, record, spread
from bench.launch import ONE, replay_config
from bench.upctl import UpProcess

COUNT = 20 if quick() else 40


def _record(ours: list[float], theirs: list[float]) -> None:
    """Record the rounds' spread and ratio in bench/results/scaleout.json and print its line."""
    mine, base = spread(ours), spread(theirs)
    ratio = mine.median / base.median
    record(
        "scaleout",
        Result(
            measure=f"3. scale-out 0 -> {COUNT} tasks",
            unit="tasks/s",
            minecs=mine,
            baseline=base,
            baseline_name=f"Docker SDK, {COUNT} create+start on 8 threads",
            ratio=ratio,
            goal=">= 0.9x throughput",
            met=ratio >= 0.9,
            notes="ratio is minecs / baseline throughput (higher is better)",
        ),
    )


def main() -> None:
    up = UpProcess()
    client = docker.APIClient(version="auto")
    try:
        up.call("POST", "/v1/taskdefinitions", ONE)
        service = {"apiVersion": "minecs.dev/v1", "kind": "Service", "metadata": {"name": "fleet"}}
        service["spec"] = {"taskDefinition": "one", "desiredCount": 0}
        up.call("POST", "/v1/apply", {"documents": [service]})

        def scale_minecs() -> float:
            began = time.perf_counter()
            up.call("PATCH", "/v1/services/fleet", {"desiredCount": COUNT})
            while up.call("GET", "/v1/services/fleet")["service"]["runningCount"] < COUNT:
                time.sleep(0.05)
            took = time.perf_counter() - began
            up.call("PATCH", "/v1/services/fleet", {"desiredCount": 0})
            while any(
                t["group"] == "service:fleet"
                for t in up.call("GET", "/v1/tasks")["tasks"]
                if t["lastStatus"] != "STOPPED"
            ):
                time.sleep(0.2)
            return COUNT / took

        scale_minecs()  # warm-up round: image cache, agent, first deployment
        template = replay_config(client, up.running_container_ids(every=True)[0])

        def start_one(_: int) -> str:
            created = client.create_container(name=f"bench-scale-{secrets.token_hex(5)}", **template)
            client.start(created["Id"])
            return str(created["Id"])

        def scale_docker() -> float:
            began = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                ids = list(pool.map(start_one, range(COUNT)))
            took = time.perf_counter() - began
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda cid: client.remove_container(cid, force=True), ids))
            return COUNT / took

        ours, theirs = interleaved(scale_minecs, scale_docker, 1 if quick() else 5)
        _record(ours, theirs)
    finally:
        up.stop()


if __name__ == "__main__":
    main()
