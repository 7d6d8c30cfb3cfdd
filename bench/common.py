"""Shared bench plumbing: interleaved A/B rounds, robust summaries, one result record per measure.

Absolute times on a shared 2-core machine are noise, so every measure runs minecs (A) and its
baseline (B) alternately in the same run (A, B, A, B, ...), reports the median and the spread
(p10..p90) of each, and the ratio of the medians. ``record`` writes ``bench/results/<name>.json``;
``bench/run.py`` gathers them into ``latest.json`` and the summary table. Nothing here is a test:
no figure is asserted, it is measured and printed.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
BIN = REPO / ".venv" / "bin"
LABEL = "minecs.bench=1"


@dataclass(frozen=True)
class Spread:
    median: float
    p10: float
    p90: float
    n: int
    p99: float = 0.0

    def show(self, unit: str) -> str:
        return f"{self.median:.4g} {unit} (p10 {self.p10:.4g}, p90 {self.p90:.4g}, p99 {self.p99:.4g}, n={self.n})"


def spread(values: list[float]) -> Spread:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return Spread(statistics.median(ordered), at(0.1), at(0.9), len(ordered), at(0.99))


def interleaved(
    a: Callable[[], float], b: Callable[[], float], rounds: int
) -> tuple[list[float], list[float]]:
    """``rounds`` of A then B; each callable returns its own measured figure."""
    first: list[float] = []
    second: list[float] = []
    for _ in range(rounds):
        first.append(a())
        second.append(b())
    return first, second


@dataclass(frozen=True)
class Result:
    measure: str
    unit: str
    minecs: Spread
    baseline: Spread | None
    """None for a measure judged against its goal only (footprint)."""
    baseline_name: str
    ratio: float | None
    """minecs against the baseline, in the sense the notes give (lower-is-better or higher-is-better)."""
    goal: str
    met: bool
    notes: str = ""


def record(name: str, result: Result, *, uses_docker: bool = True, **details: object) -> None:
    """Write ``bench/results/<name>.json`` (with ``details``) and print the result's line; a measure that
    runs no Docker (``uses_docker=False``) does not ask the engine its version either."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = {
        **asdict(result),
        **details,
        "machine": machine(docker=uses_docker),
        "command": f"make bench ({name}) or .venv/bin/python -m bench.{name}",
        "at": time.time(),
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n")
    baseline = (
        f"{result.baseline_name} {result.baseline.show(result.unit)}" if result.baseline else "no baseline"
    )
    ratio = f"ratio {result.ratio:.2f}x" if result.ratio is not None else "no ratio"
    print(
        f"{result.measure}: minecs {result.minecs.show(result.unit)}; {baseline}; {ratio}; "
        f"goal {result.goal}: {'met' if result.met else 'NOT met'}"
    )


def machine(*, docker: bool = True) -> dict[str, object]:
    found: dict[str, object] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    if docker:
        found["docker"] = subprocess.run(
            ["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return found


def quick() -> bool:
    return os.environ.get("MINECS_BENCH_QUICK") == "1"


def remove_labelled() -> None:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={LABEL}"], capture_output=True, text=True, check=False
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    began = time.perf_counter()
    ended: list[float] = []
    yield lambda: (ended[0] if ended else time.perf_counter()) - began
    ended.append(time.perf_counter())
