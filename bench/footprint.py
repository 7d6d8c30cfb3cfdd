"""Measure 6: the agent's footprint. RSS and CPU of an agent process running 50 idle tasks, over 60 s.

A controller and one agent run as separate processes (as on an edge host); 50 one-container tasks
are started and left alone. After they settle, the agent's resident memory (``VmRSS``) is sampled
every 5 s and its CPU time (``utime + stime`` from ``/proc/<pid>/stat``) is taken at both ends of
the window: CPU% = CPU seconds / wall seconds x 100 (of one core). No baseline: the goal is absolute,
<= 60 MB and <= 1 % CPU.

The agent runs from ``.cache/agent-venv`` (made by ``scripts/ensure-bench-tools``): minecs and its
runtime dependencies only, as ``scripts/install-agent`` installs it. The development venv would
measure more than a user runs: import-linter brings ``rich``, which structlog then imports (about
3 MB, with pygments).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.common import REPO, Result, quick, record, spread
from bench.launch import ONE
from bench.upctl import SplitProcesses, wait

TASKS = 20 if quick() else 50
AGENT_BIN = REPO / ".cache" / "agent-venv" / "bin"


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    if not (AGENT_BIN / "minecs").exists():
        raise SystemExit(f"{AGENT_BIN} is missing: run scripts/ensure-bench-tools (make bench-tools)")
    daemons = SplitProcesses(agent_bin=AGENT_BIN)
    try:
        daemons.call("POST", "/v1/taskdefinitions", ONE)
        for _ in range(TASKS // 10):
            daemons.call("POST", "/v1/tasks", {"taskDefinition": "one", "count": 10})
        wait(lambda: len(daemons.running()) >= TASKS, 600, f"{TASKS} tasks RUNNING")
        time.sleep(10)  # let start-up work (reports, first resyncs) finish
        pid = daemons.agent.pid
        window = 15 if quick() else 60
        began_cpu, began = cpu_seconds(pid), time.monotonic()
        samples = [rss_mb(pid)]
        while time.monotonic() - began < window:
            time.sleep(5)
            samples.append(rss_mb(pid))
        cpu_percent = (cpu_seconds(pid) - began_cpu) / (time.monotonic() - began) * 100
        rss = spread(samples)
        record(
            "footprint",
            Result(
                measure=f"6. agent footprint, {TASKS} idle tasks",
                unit="MB RSS",
                minecs=rss,
                baseline=None,
                baseline_name="",
                ratio=None,
                goal="<= 60 MB and <= 1 % CPU",
                met=rss.median <= 60 and cpu_percent <= 1,
                notes=f"CPU {cpu_percent:.2f} % of one core over {window} s; the agent from a runtime-only venv",
            ),
        )
    finally:
        daemons.stop()


if __name__ == "__main__":
    main()
