"""Measure 2: a dependency chain. A 4-container task (SUCCESS init -> HEALTHY db -> app -> START sidecar)
against docker-compose (Debian's package, 1.29) bringing up the equivalent compose file.

Both use the same image, commands and health check (``true`` every 5 s, ECS's shortest interval).
minecs: RunTask, timed until the task is RUNNING with its sidecar running (the controller's view).
Baseline: ``docker-compose up -d`` with ``depends_on`` conditions service_completed_successfully,
service_healthy and service_started, timed until it returns (every container started). Each round
is torn down untimed. The ratio is minecs / compose (lower is better). Goal: <= 0.8x.
"""

from __future__ import annotations

import json
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import docker

from bench.common import LABEL, Result, interleaved, quick, record, spread
from bench.launch import docker_time
from bench.upctl import UpProcess

IMAGE = "minecs/busybox:latest"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
CHAIN = {
    "family": "chain",
    "containerDefinitions": [
        {"name": "init", "image": IMAGE, "memory": 16, "essential": False, "command": ["sh", "-c", "exit 0"]},
        {
            "name": "db",
            "image": IMAGE,
            "memory": 16,
            "stopTimeout": 1,
            "command": SLEEPER,
            "healthCheck": {"command": ["CMD", "true"], "interval": 5, "timeout": 2, "retries": 3},
        },
        {
            "name": "app",
            "image": IMAGE,
            "memory": 16,
            "stopTimeout": 1,
            "command": SLEEPER,
            "dependsOn": [
                {"containerName": "init", "condition": "SUCCESS"},
                {"containerName": "db", "condition": "HEALTHY"},
            ],
        },
        {
            "name": "sidecar",
            "image": IMAGE,
            "memory": 16,
            "stopTimeout": 1,
            "essential": False,
            "command": SLEEPER,
            "dependsOn": [{"containerName": "app", "condition": "START"}],
        },
    ],
}
LABEL_KEY = LABEL.split("=")[0]
COMPOSE = f"""version: "2.4"
services:
  init:
    image: {IMAGE}
    command: ["sh", "-c", "exit 0"]
    labels: {{"{LABEL_KEY}": "1"}}
  db:
    image: {IMAGE}
    command: {json.dumps(SLEEPER)}
    labels: {{"{LABEL_KEY}": "1"}}
    healthcheck: {{test: ["CMD", "true"], interval: 5s, timeout: 2s, retries: 3}}
  app:
    image: {IMAGE}
    command: {json.dumps(SLEEPER)}
    labels: {{"{LABEL_KEY}": "1"}}
    depends_on:
      init: {{condition: service_completed_successfully}}
      db: {{condition: service_healthy}}
  sidecar:
    image: {IMAGE}
    command: {json.dumps(SLEEPER)}
    labels: {{"{LABEL_KEY}": "1"}}
    depends_on:
      app: {{condition: service_started}}
"""


def events(client: docker.APIClient, containers: dict[str, str], began: float) -> dict[str, float]:
    """When each container was created, started, exited (init) or first healthy (db), in ms after
    ``began`` (epoch seconds), from Docker's own timestamps: where a round's time went."""
    out: dict[str, float] = {}
    for name, container_id in containers.items():
        found = client.inspect_container(container_id)
        out[f"{name} created"] = docker_time(found["Created"])
        out[f"{name} started"] = docker_time(found["State"]["StartedAt"])
        if name == "init":
            out["init exited"] = docker_time(found["State"]["FinishedAt"])
        if name == "db":
            probes = found["State"].get("Health", {}).get("Log") or []
            passed = [docker_time(p["End"]) for p in probes if p.get("ExitCode") == 0]
            if passed:
                out["db healthy"] = min(passed)
    return {event: (at - began) * 1000 for event, at in sorted(out.items(), key=lambda kv: kv[1])}


def summary(rounds: list[dict[str, float]]) -> str:
    names = [e for e in rounds[0] if all(e in r for r in rounds)]
    medians = {e: statistics.median(r[e] for r in rounds) for e in names}
    return ", ".join(f"{e} {m:.0f}" for e, m in sorted(medians.items(), key=lambda kv: kv[1]))


def _record(
    ours: list[float],
    theirs: list[float],
    our_events: list[dict[str, float]],
    compose_events: list[dict[str, float]],
) -> None:
    """Record the rounds' spread and ratio in bench/results/chain.json and print its line."""
    mine, base = spread(ours), spread(theirs)
    ratio = mine.median / base.median
    record(
        "chain",
        Result(
            measure="2. dependency chain, 4 containers",
            unit="s",
            minecs=mine,
            baseline=base,
            baseline_name="docker-compose 1.29 up -d",
            ratio=ratio,
            goal="<= 0.8x",
            met=ratio <= 0.8,
            notes="health check every 5 s in both; ratio is minecs / compose (lower is better); "
            f"median ms after the start, minecs: {summary(our_events)}; compose: {summary(compose_events)}",
        ),
    )


def main() -> None:
    up = UpProcess()
    client = docker.APIClient(version="auto")
    our_events: list[dict[str, float]] = []
    compose_events: list[dict[str, float]] = []
    compose_dir = Path(tempfile.mkdtemp(prefix="minecs-bench-compose-"))
    (compose_dir / "docker-compose.yml").write_text(COMPOSE)
    try:
        up.call("POST", "/v1/taskdefinitions", CHAIN)

        def run_minecs() -> float:
            began, began_at = time.perf_counter(), time.time()
            (task,) = up.call("POST", "/v1/tasks", {"taskDefinition": "chain"})["tasks"]
            task_id = task["taskArn"].rsplit("/", 1)[-1]
            while True:
                shown = up.call("GET", f"/v1/tasks/{task_id}")["task"]
                sidecar = next(c for c in shown["containers"] if c["name"] == "sidecar")
                if shown["lastStatus"] == "RUNNING" and sidecar["lastStatus"] == "RUNNING":
                    break
                time.sleep(0.02)
            took = time.perf_counter() - began
            ids = {c["name"]: c["runtimeId"] for c in shown["containers"]}
            our_events.append({**events(client, ids, began_at), "controller shows RUNNING": took * 1000})
            up.call("POST", f"/v1/tasks/{task_id}/stop", {"reason": "bench round over"})
            up.wait_status(task_id, "STOPPED")
            return took

        def run_compose() -> float:
            project = ["docker-compose", "-p", f"minecsbench{secrets.token_hex(3)}"]
            began, began_at = time.perf_counter(), time.time()
            subprocess.run([*project, "up", "-d"], cwd=compose_dir, check=True, capture_output=True)
            took = time.perf_counter() - began
            listed = client.containers(
                all=True, filters={"label": f"com.docker.compose.project={project[2]}"}
            )
            ids = {c["Labels"]["com.docker.compose.service"]: c["Id"] for c in listed}
            compose_events.append({**events(client, ids, began_at), "up -d returns": took * 1000})
            subprocess.run([*project, "down", "-t", "1"], cwd=compose_dir, check=True, capture_output=True)
            return took

        ours, theirs = interleaved(run_minecs, run_compose, 2 if quick() else 5)
        _record(ours, theirs, our_events, compose_events)
    finally:
        up.stop()


if __name__ == "__main__":
    main()
