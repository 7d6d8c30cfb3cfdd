"""Measure 5: controller API throughput. DescribeTasks of 10 tasks through the ECS-compatible endpoint,
in requests per second, against moto_server answering the same request.

Both servers hold a cluster with 10 tasks: minecs (``minecs up``, the tasks really running) and
``moto_server`` (moto[server], a bench-only dependency; an EC2-less container instance registered so
RunTask can place). The request is signed once with SigV4 (minecs checks the signature on every
request, as ECS does; moto does not check it) and replayed by ``bench.loadgen`` in a separate process
with 16 connections. Rounds alternate minecs and moto. Goal: >= 2,000 req/s and >= 5x moto.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.common import BIN, Result, interleaved, quick, record, spread
from bench.launch import ONE
from bench.processes import spawn, stop
from bench.upctl import UpProcess, free_port, wait

TARGET = "AmazonEC2ContainerServiceV20141113."
REGION = "us-east-1"


def signed(
    url: str,
    key: str,
    secret: str,
    body: dict[str, object],
    *,
    operation: str = "DescribeTasks",
    weight: int = 1,
) -> dict[str, object]:
    """An ECS request for ``bench.loadgen``, signed as botocore signs it (valid for 15 minutes)."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=json.dumps(body),
        headers={"X-Amz-Target": TARGET + operation, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(key, secret), "ecs", REGION).add_auth(request)
    return {
        "name": operation,
        "headers": dict(request.headers.items()),
        "body": json.dumps(body),
        "weight": weight,
    }


def minecs_tasks(up: UpProcess) -> list[str]:
    up.call("POST", "/v1/taskdefinitions", ONE)
    up.call("POST", "/v1/tasks", {"taskDefinition": "one", "count": 10})
    wait(lambda: len(up.running()) >= 10, 120, "10 tasks RUNNING")
    return [t["taskArn"] for t in up.running()][:10]


def moto_tasks(url: str) -> list[str]:
    """A cluster in moto with one container instance (on a moto EC2 instance) running 10 tasks."""
    common = {
        "region_name": REGION,
        "endpoint_url": url,
        "aws_access_key_id": "x",
        "aws_secret_access_key": "x",
    }
    ecs = boto3.client("ecs", **common)
    ec2 = boto3.client("ec2", **common)
    ecs.create_cluster(clusterName="default")
    ecs.register_task_definition(**ONE)
    image = ec2.describe_images()["Images"][0]["ImageId"]  # one of moto's stock AMIs
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ecs.register_container_instance(
        cluster="default", instanceIdentityDocument=json.dumps({"instanceId": instance})
    )
    ran = ecs.run_task(cluster="default", taskDefinition="one", count=10)
    return [t["taskArn"] for t in ran["tasks"]]


def load(url: str, requests: list[dict[str, object]], concurrency: int, seconds: float) -> dict[str, Any]:
    """``bench.loadgen``'s answer for ``requests`` sent by ``concurrency`` connections for ``seconds``."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "requests.json"
        path.write_text(json.dumps({"requests": requests}))
        out = subprocess.run(
            [str(BIN / "python"), "-m", "bench.loadgen", url, str(path), str(concurrency), str(seconds)],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        )
    answer: dict[str, Any] = json.loads(out.stdout)
    return answer


def throughput(url: str, request: dict[str, object], seconds: float) -> float:
    result = load(url, [request], 16, seconds)
    if result["errors"]:
        raise RuntimeError(f"{url}: {result['errors']} requests failed: {result['error_samples']}")
    return float(result["requests"] / result["seconds"])


@contextmanager
def moto_server() -> Iterator[str]:
    """A ``moto_server`` on a free loopback port, ready; its URL. Stopped on leaving."""
    port = free_port()
    moto = spawn([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)])
    url = f"http://127.0.0.1:{port}/"
    try:
        wait(lambda: urllib.request.urlopen(url + "moto-api/", timeout=5).status == 200, 30, "moto")
        yield url
    finally:
        stop(moto)


def main() -> None:
    up = UpProcess()
    try:
        with moto_server() as moto_url:
            measure(up, moto_url)
    finally:
        up.stop()


def measure(up: UpProcess, moto_url: str) -> None:
    admin = up.admin()
    ours = signed(
        up.endpoint + "/",
        admin.access_key_id,
        admin.secret_access_key,
        {"cluster": "default", "tasks": minecs_tasks(up)},
    )
    theirs = signed(moto_url, "x", "x", {"cluster": "default", "tasks": moto_tasks(moto_url)})
    seconds = 3.0 if quick() else 8.0
    mine, base = interleaved(
        lambda: throughput(up.endpoint + "/", ours, seconds),
        lambda: throughput(moto_url, theirs, seconds),
        2 if quick() else 4,
    )
    a, b = spread(mine), spread(base)
    ratio = a.median / b.median
    record(
        "api",
        Result(
            measure="5. DescribeTasks(10) throughput",
            unit="req/s",
            minecs=a,
            baseline=b,
            baseline_name="moto_server",
            ratio=ratio,
            goal=">= 2000 req/s and >= 5x",
            met=a.median >= 2000 and ratio >= 5,
            notes="16 connections from a separate load-generator process; "
            "ratio is minecs / moto (higher is better)",
        ),
    )


if __name__ == "__main__":
    main()
