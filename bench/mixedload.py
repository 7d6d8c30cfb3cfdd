"""Measure 8: the controller under a mixed load of 200 clients, twice on the same store.

200 connections from ``bench.loadgen`` (a separate process), each sending DescribeClusters,
ListTaskDefinitions and RegisterTaskDefinition in the ratio 4:3:3, the next request as soon as the
last is answered, for 30 s (5 s with ``MINECS_BENCH_QUICK=1``); then a second window on the same
store, which by then holds every revision the first one registered. Requests are signed once
beforehand as botocore signs them; minecs verifies every signature. Each request's latency is
recorded; each window reports req/s, errors, p50 and p99.

The target is a ``minecs controller`` alone (no agent, no Docker); the baseline is ``moto_server``
under the same load, windows interleaved (minecs 1, moto 1, minecs 2, moto 2). Goal: 0 errors,
p99 <= 250 ms in both windows, and the second window as fast as the first (req/s within 10 %).
Run alone with ``.venv/bin/python -m bench.mixedload``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from bench.api import REGION, load, moto_server, signed
from bench.common import Result, quick, record, spread
from bench.footprint import cpu_seconds
from bench.upctl import ControllerOnly

CLIENTS = 200
FAMILY = "load"
DEFINITION: dict[str, object] = {
    "family": FAMILY,
    "containerDefinitions": [{"name": "web", "image": "nginx:alpine", "memory": 128, "essential": True}],
}
MIX: tuple[tuple[str, dict[str, object], int], ...] = (
    ("DescribeClusters", {"clusters": ["default"]}, 4),
    ("ListTaskDefinitions", {"familyPrefix": FAMILY, "sort": "DESC", "maxResults": 10}, 3),
    ("RegisterTaskDefinition", DEFINITION, 3),
)


@dataclass(frozen=True)
class Window:
    """One load window's figures."""

    requests_per_second: float
    errors: int
    p50: float
    p99: float
    latencies: list[float]
    error_samples: list[str]
    cpu_ms_per_request: float | None
    """The server's CPU time per answered request (None where the server's pid is not known): a
    figure that queueing on a shared machine does not move as much as latency."""

    def show(self) -> str:
        cpu = f", {self.cpu_ms_per_request:.2f} CPU ms/request" if self.cpu_ms_per_request else ""
        return (
            f"{self.requests_per_second:.0f} req/s, {self.errors} errors, "
            f"p50 {self.p50:.0f} ms, p99 {self.p99:.0f} ms{cpu}"
        )


def window(url: str, requests: list[dict[str, object]], seconds: float, pid: int | None = None) -> Window:
    began = cpu_seconds(pid) if pid else 0.0
    answer = load(url, requests, CLIENTS, seconds)
    cpu = (cpu_seconds(pid) - began) * 1000 / max(answer["requests"], 1) if pid else None
    latencies = [ms for values in answer["latencies_ms"].values() for ms in values]
    figures = spread(latencies or [0.0])
    return Window(
        answer["requests"] / answer["seconds"],
        answer["errors"],
        figures.median,
        figures.p99,
        latencies,
        answer["error_samples"],
        cpu,
    )


def mix(url: str, key: str, secret: str) -> list[dict[str, object]]:
    return [signed(url, key, secret, body, operation=name, weight=weight) for name, body, weight in MIX]


def prepare_moto(url: str) -> None:
    ecs = boto3.client(
        "ecs", region_name=REGION, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
    )
    ecs.create_cluster(clusterName="default")


def summary(windows: list[Window]) -> dict[str, Any]:
    return {
        f"window {n}": {
            "req/s": round(w.requests_per_second, 1),
            "errors": w.errors,
            "p50_ms": round(w.p50, 1),
            "p99_ms": round(w.p99, 1),
            "cpu_ms_per_request": round(w.cpu_ms_per_request, 3) if w.cpu_ms_per_request else None,
            "error_samples": w.error_samples,
        }
        for n, w in enumerate(windows, start=1)
    }


def main() -> None:
    seconds = 5.0 if quick() else 30.0
    controller = ControllerOnly()
    try:
        with moto_server() as moto_url:
            measure(controller, moto_url, seconds)
    finally:
        controller.stop()


def measure(controller: ControllerOnly, moto_url: str, seconds: float) -> None:
    admin = controller.admin()
    ours = mix(controller.endpoint + "/", admin.access_key_id, admin.secret_access_key)
    prepare_moto(moto_url)
    theirs = mix(moto_url, "x", "x")
    mine: list[Window] = []
    base: list[Window] = []
    for n in (1, 2):
        mine.append(window(controller.endpoint + "/", ours, seconds, controller.processes[0].pid))
        print(f"minecs window {n}: {mine[-1].show()}", flush=True)
        base.append(window(moto_url, theirs, seconds))
        print(f"moto_server window {n}: {base[-1].show()}", flush=True)
    report(mine, base, seconds)


def report(mine: list[Window], base: list[Window], seconds: float) -> None:
    a = spread([ms for w in mine for ms in w.latencies] or [0.0])
    b = spread([ms for w in base for ms in w.latencies] or [0.0])
    steady = mine[1].requests_per_second >= 0.9 * mine[0].requests_per_second
    met = all(w.errors == 0 and w.p99 <= 250 for w in mine) and steady
    notes = "; ".join(
        f"window {n}: minecs {m.show()}, moto {t.show()}"
        for n, (m, t) in enumerate(zip(mine, base, strict=True), start=1)
    )
    record(
        "mixedload",
        Result(
            measure=f"8. mixed load, {CLIENTS} clients, 2 x {seconds:.0f} s (latency, both windows)",
            unit="ms",
            minecs=a,
            baseline=b,
            baseline_name="moto_server",
            ratio=a.p99 / b.p99 if b.p99 else None,
            goal="0 errors, p99 <= 250 ms, window 2 >= 0.9x window 1's req/s",
            met=met,
            notes=f"ratio is p99 minecs / moto (lower is better); {notes}",
        ),
        uses_docker=False,
        windows={"minecs": summary(mine), "moto_server": summary(base)},
    )
    print(json.dumps({"minecs": summary(mine), "moto_server": summary(base)}, indent=2))


if __name__ == "__main__":
    main()
