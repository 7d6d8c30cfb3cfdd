"""The agent's kernel-read metrics cross-checked against Docker's own stats API for the same container."""

from __future__ import annotations

import urllib.request

import docker
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.processes import Up

BUSY = {
    "family": "busy",
    "containerDefinitions": [
        {
            "name": "spin",
            "image": "minecs/busybox:latest",
            "memory": 32,
            "stopTimeout": 2,
            # Half a core or so, and a few MiB of memory held in a shell variable.
            "command": [
                "sh",
                "-c",
                "x=$(yes | head -c 3000000); "
                "while true; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.1; done",
            ],
        }
    ],
}


def scrape(up: Up, container_id: str) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{up.metrics_port}/metrics", timeout=10) as response:
        text = response.read().decode()
    ids = {
        (s.labels["task_id"], s.labels["container_name"]): s.labels["container_id"]
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "ecs_container_info"
    }
    wanted = {k for k, v in ids.items() if v == container_id}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (s.labels.get("task_id"), s.labels.get("container_name")) in wanted:
                found[s.name] = s.value
    return found


def test_cpu_and_memory_agree_with_docker_stats(up: Up, docker_client: docker.DockerClient) -> None:
    up.ok("POST", "/v1/taskdefinitions", BUSY)
    ran = up.cli("run-task", "busy", "--wait", "-o", "yaml")
    assert ran.returncode == 0, ran.stderr
    (task,) = yaml.safe_load(ran.stdout)
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    container_id = up.wait_task(task_id, "RUNNING")["containers"][0]["runtimeId"]
    up.wait(
        lambda: scrape(up, container_id).get("ecs_container_cpu_usage_seconds_total") or None, 30, "metrics"
    )

    before = scrape(up, container_id)
    stats = docker_client.api.stats(container_id, stream=False)  # Docker samples twice, about 1 s apart
    after = scrape(up, container_id)

    docker_cpu = stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
    ours = "ecs_container_cpu_usage_seconds_total"
    # The same kernel counter, read before and after Docker read it: Docker's value lies between.
    assert before[ours] - 1e-6 <= docker_cpu <= after[ours] + 1e-6, (before[ours], docker_cpu, after[ours])
    assert after[ours] > before[ours]  # it is busy

    memory = stats["memory_stats"]
    tolerance = max(1 << 20, 0.1 * memory["usage"])  # memory moves a little between the three reads
    assert abs(after["ecs_container_memory_usage_bytes"] - memory["usage"]) <= tolerance
    cache = memory["stats"].get("total_cache", memory["stats"].get("inactive_file", 0))
    assert abs(after["ecs_container_memory_utilized_bytes"] - (memory["usage"] - cache)) <= tolerance
    assert after["ecs_container_memory_utilized_bytes"] > 2_000_000  # the shell holds its 3 MB string
    assert after["ecs_container_memory_limit_bytes"] == memory["limit"] == 32 << 20
