"""Measure 7: many agents. A controller process with 10 simulated agents (the real agent code and
protocol, the fake driver in place of Docker) and 500 tasks.

The agents run in this process, each with its own data directory, on ``agent.runtime.fake.FakeDriver``
wrapped to note when a task's first container is created, i.e. when its assignment reached an agent
and was acted on. 500 tasks are run 10 per RunTask; each task's latency is from its ``createdAt``
(stamped by the controller just before it places the task, so placement is included) to that
moment, both read from the wall clock of this one machine. (Timing from the RunTask answer instead
undercounts: the agents often act before the answer reaches the load generator.) The controller's
CPU is its process's CPU time over the run. No baseline: the goal is p99 <= 200 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from agent.daemon import AgentStart, run_agent
from agent.runtime.base import ContainerSpec
from agent.runtime.fake import FakeDriver
from bench.common import Result, quick, record, spread
from bench.footprint import cpu_seconds
from bench.launch import ONE
from bench.upctl import ControllerOnly, wait
from minecs import logs
from minecs.settings import AgentSettings, DockerSettings, EngineSettings, PullBehavior

AGENTS, TASKS = 10, 500
SIMULATED = AgentSettings(
    metrics_port=0,
    metadata_port=0,
    introspection_port=0,
    engine=EngineSettings(pull_behavior=PullBehavior.PREFER_CACHED),
)
"""Ten agents on one host: every port any free one."""


class NotingDriver(FakeDriver):
    """The fake engine, noting when each task's first container is created."""

    def __init__(self, seen: dict[str, float], target: int, all_seen: asyncio.Event) -> None:
        super().__init__(images={"minecs/busybox:latest"})
        self.seen, self.target, self.all_seen = seen, target, all_seen

    async def create(self, spec: ContainerSpec) -> str:
        self.seen.setdefault(spec.labels.get("com.amazonaws.ecs.task-arn", ""), time.time())
        if len(self.seen) >= self.target:
            self.all_seen.set()
        return await super().create(spec)


async def simulate(controller: ControllerOnly, tasks: int) -> tuple[list[float], float, float]:
    seen: dict[str, float] = {}
    placed: dict[str, float] = {}
    stop, all_seen = asyncio.Event(), asyncio.Event()
    agents = []
    for n in range(AGENTS):
        token = await asyncio.to_thread(controller.call, "POST", "/v1/tokens", {"uses": 1})
        start = AgentStart(controller.endpoint, controller.dir / f"agent{n}", token=token["token"])
        driver = NotingDriver(seen, tasks, all_seen)
        agents.append(asyncio.create_task(run_agent(SIMULATED, DockerSettings(), start, stop, driver)))
    await asyncio.to_thread(
        wait, lambda: len(controller.call("GET", "/v1/instances")["containerInstances"]) == AGENTS, 60
    )
    await asyncio.to_thread(controller.call, "POST", "/v1/taskdefinitions", ONE)
    began_cpu, began = cpu_seconds(controller.processes[0].pid), time.perf_counter()
    for _ in range(tasks // 10):
        answer: Any = await asyncio.to_thread(
            controller.call, "POST", "/v1/tasks", {"taskDefinition": "one", "count": 10}
        )
        placed.update((t["taskArn"], float(t["createdAt"])) for t in answer["tasks"])
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_seen.wait(), 120)
    wall = time.perf_counter() - began
    cpu = (cpu_seconds(controller.processes[0].pid) - began_cpu) / wall * 100
    stop.set()
    await asyncio.gather(*agents, return_exceptions=True)
    missing = len(placed.keys() - seen.keys())
    if missing:
        raise RuntimeError(f"{missing} tasks never reached an agent")
    return [(seen[arn] - at) * 1000 for arn, at in placed.items()], cpu, wall


def main() -> None:
    logs.configure("warning", "json")  # the ten in-process agents log like daemons, quietly
    controller = ControllerOnly()
    try:
        latencies, cpu, wall = asyncio.run(simulate(controller, 100 if quick() else TASKS))
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        record(
            "agents",
            Result(
                measure=f"7. {AGENTS} agents, {len(latencies)} tasks: placement -> first create",
                unit="ms",
                minecs=spread(latencies),
                baseline=None,
                baseline_name="",
                ratio=None,
                goal="p99 <= 200 ms",
                met=p99 <= 200,
                notes=f"p99 {p99:.1f} ms; controller CPU {cpu:.1f} % of one core over {wall:.1f} s",
            ),
        )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
