"""Container Insights proven on a real Prometheus (docs/metrics.md): promtool finds nothing wrong with
either endpoint, and every PromQL expression of the shipped Grafana dashboard returns data while
Prometheus scrapes a live ``minecs up`` running a service of three tasks that do CPU, network and
disk work. The expressions are read from the dashboard's JSON, so the two cannot drift apart."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.integration.processes import Up

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "manifests" / "grafana" / "minecs-container-insights.json"
# Grafana's variables, as the dashboard's "All" selection and a short rate window render them.
VARIABLES = {"$__rate_interval": "15s", "$cluster": ".*", "$service": ".*", "$family": ".*", "$task": ".*"}

WORKER = {
    "family": "worker",
    "containerDefinitions": [
        {
            "name": "work",
            "image": "minecs/busybox:latest",
            "cpu": 128,
            "memory": 48,
            "memoryReservation": 32,
            "stopTimeout": 2,
            "portMappings": [{"containerPort": 8080}],
            # httpd serves /tmp, where the loop keeps writing a 1 MiB file: CPU, disk and (when the test
            # fetches it) network work, with a duty cycle gentle enough for a 2-core CI machine.
            "command": [
                "sh",
                "-c",
                "httpd -p 8080 -h /tmp; while true; do i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done; "
                "dd if=/dev/zero of=/tmp/next bs=64k count=16 oflag=direct 2>/dev/null; mv /tmp/next /tmp/blob; sleep 1; done",
            ],
        }
    ],
}


def tool(name: str) -> str:
    found = shutil.which(name) or str(REPO / ".cache" / "prometheus" / "usr" / "bin" / name)
    if not Path(found).exists():
        pytest.fail(f"{name} is missing: run scripts/ensure-prometheus (make test does)")
    return found


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


@pytest.fixture
def monitored(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / "minecs", log=tmp_path / "up.log")
    try:
        running.ok("POST", "/v1/taskdefinitions", WORKER)
        service = {"apiVersion": "minecs.dev/v1", "kind": "Service", "metadata": {"name": "worker"}}
        service["spec"] = {"taskDefinition": "worker", "desiredCount": 3}
        running.ok("POST", "/v1/apply", {"documents": [service]})
        running.wait_steady("worker")
        yield running
    finally:
        running.stop()


@pytest.fixture
def prometheus(tmp_path: Path, monitored: Up) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "minecs-controller",
                        "static_configs": [{"targets": [f"127.0.0.1:{monitored.port}"]}],
                    },
                    {
                        "job_name": "minecs-agent",
                        "static_configs": [{"targets": [f"127.0.0.1:{monitored.metrics_port}"]}],
                    },
                ],
            }
        )
    )
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    log.close()  # the child has its own descriptor
    url = f"http://127.0.0.1:{port}"
    try:
        monitored.wait(lambda: _ready(url), 60, "prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(url: str) -> bool | None:
    try:
        return fetch(url + "/-/ready") is not None
    except OSError:
        return None


def query(url: str, expr: str) -> list[Any]:
    answer = json.loads(fetch(url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    assert answer["status"] == "success", (expr, answer)
    return list(answer["data"]["result"])


def rendered(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    if expr.startswith("label_values("):  # a variable's query: which label values exist
        inner, label = expr.removeprefix("label_values(").removesuffix(")").rsplit(",", 1)
        return f"count by ({label.strip()}) ({inner})"
    return expr


def test_both_endpoints_pass_promtool(monitored: Up) -> None:
    for endpoint in (f"{monitored.endpoint}/metrics", f"http://127.0.0.1:{monitored.metrics_port}/metrics"):
        checked = subprocess.run(
            [tool("promtool"), "check", "metrics"], input=fetch(endpoint), capture_output=True, check=False
        )
        assert (checked.returncode, checked.stdout, checked.stderr) == (0, b"", b""), endpoint


def test_every_dashboard_expression_returns_data(monitored: Up, prometheus: str) -> None:
    ports = [
        b["hostPort"]
        for t in monitored.live("service:worker")
        for c in t["containers"]
        for b in c.get("networkBindings", [])
    ]
    assert len(ports) == 3
    deadline = time.monotonic() + 20  # twenty one-second scrapes, with traffic into every task
    while time.monotonic() < deadline:
        for port in ports:
            fetch(f"http://127.0.0.1:{port}/blob")
        time.sleep(0.5)
    document = json.loads(DASHBOARD.read_text())
    expressions = runpy.run_path(str(REPO / "scripts" / "dashboard.py"))["expressions"](document)
    assert len(expressions) > 30
    empty = [e for e in expressions if not query(prometheus, rendered(e))]
    assert empty == [], f"{len(empty)} of {len(expressions)} dashboard expressions returned nothing"
    # And the numbers mean something: three tasks' CPU in CPU units, their traffic, their reservations.
    (cpu,) = query(prometheus, "sum(rate(ecs_container_cpu_usage_seconds_total[15s])) * 1024")
    assert float(cpu["value"][1]) > 0
    (rx,) = query(prometheus, "sum(rate(ecs_task_network_transmit_bytes_total[15s]))")
    assert float(rx["value"][1]) > 100_000  # each task sent its 1 MiB blob about every half second
    (reserved,) = query(prometheus, 'sum(ecs_task_cpu_reserved_vcpus{service_name="worker"}) * 1024')
    assert float(reserved["value"][1]) == 3 * 128
