"""``make bench``: every measure in turn, then one summary table and ``bench/results/latest.json``.

Each measure runs as its own process (``python -m bench.<name>``), so one that fails is reported and
the others still run. ``MINECS_BENCH_QUICK=1`` (``make bench-quick``) runs fewer rounds and smaller
windows. The table is also written as ``bench/results/latest.md``, which ``docs/benchmarks.md`` quotes.
"""

from __future__ import annotations

import json
import sys
import time

from bench.common import BIN, REPO, RESULTS, machine, quick
from bench.processes import spawn, stop

MEASURES = ("launch", "chain", "scaleout", "metrics_scrape", "api", "footprint", "agents", "mixedload")


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    wanted = sys.argv[1:] or list(MEASURES)
    began = time.monotonic()
    rows: list[dict[str, object]] = []
    for name in wanted:
        (RESULTS / f"{name}.json").unlink(missing_ok=True)
        started = time.monotonic()
        returncode = _measure(name)
        seconds = time.monotonic() - started
        path = RESULTS / f"{name}.json"
        if returncode == 0 and path.exists():
            rows.append({**json.loads(path.read_text()), "seconds": round(seconds, 1)})
        else:
            rows.append({"measure": name, "error": f"exit {returncode}", "seconds": round(seconds, 1)})
    summary = {
        "machine": machine(),
        "quick": quick(),
        "command": "make bench-quick" if quick() else "make bench",
        "seconds": round(time.monotonic() - began, 1),
        "results": rows,
    }
    (RESULTS / "latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = render(rows)
    (RESULTS / "latest.md").write_text(table)
    print(table)
    print(f"{summary['command']}: {summary['seconds']} s; bench/results/latest.json written")
    return 0 if all("error" not in r for r in rows) else 1


def _measure(name: str) -> int:
    """Run one measure as its own process; stopped (its process group with it) if this one is. The
    measure stops its own daemons on SIGTERM (up to a minute each), so it is given time to."""
    process = spawn([str(BIN / "python"), "-m", f"bench.{name}"], stdout=None, stderr=None, cwd=REPO)
    try:
        return process.wait()
    finally:
        stop(process, timeout=180)


def _cell(spread: object, unit: str) -> str:
    if not isinstance(spread, dict):
        return "-"
    return f"{spread['median']:.4g} {unit} ({spread['p10']:.4g}..{spread['p90']:.4g})"


def render(rows: list[dict[str, object]]) -> str:
    lines = [
        "| measure | minecs (p10..p90) | baseline (p10..p90) | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['measure']} | failed: {r['error']} | | | | |")
            continue
        unit = str(r["unit"])
        baseline = f"{r['baseline_name']}: {_cell(r['baseline'], unit)}" if r.get("baseline") else "-"
        ratio = f"{r['ratio']:.2f}x" if isinstance(r.get("ratio"), float) else "-"
        note = f" ({r['notes']})" if r.get("notes") else ""
        lines.append(
            f"| {r['measure']} | {_cell(r['minecs'], unit)} | {baseline} | {ratio}{note} | {r['goal']} | "
            f"{'yes' if r['met'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
