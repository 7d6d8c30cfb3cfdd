"""``minecs down``: the ``docker compose down`` of minecs, for what ``minecs up`` runs on this host.

Its steps, each said in one line on stdout as it is done:

1. every REPLICA service of every cluster is scaled to 0 and every standalone task is stopped,
   through the controller (a DAEMON service has no count to scale: its tasks go with the agent);
   only when a ``minecs up`` of the data dir runs, since a controller run otherwise may be a fleet's;
2. it waits until those tasks are STOPPED (``--timeout``);
3. the ``minecs up`` daemon whose id is in ``<data-dir>/up.pid`` (``minecs.datadir.pid_file``) gets
   SIGTERM, and ``down`` waits until it has exited;
4. the agent's cleanup is done at once (``agent.tasks.sweep``): the tasks' containers and task-scoped
   volumes are removed, where a running agent would wait ``agent.engine.cleanup_wait`` for that;
5. it checks that no container of the instance is left.

The exit status is 0 when all of that held, 1 when something is left (said on stderr). Services
stay defined at 0 tasks (``minecs scale`` brings them back after the next ``up``), as the compose
file stays after ``docker compose down``.

Design decision: tasks are stopped through the controller before the daemon goes, never left to the
daemon's exit. An agent that exits leaves its containers running (so that its restart touches no
task), and only the controller knows that a service would otherwise start them again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from minecs import settings

POLL_S = 0.5
DOWN_REASON = "minecs down"


def add_parsers(commands: Any) -> None:
    down = commands.add_parser(
        "down", help="stop every task and the 'minecs up' daemon, and remove their containers"
    )
    down.add_argument("--data-dir", type=Path, default=None, help="state directory (also MINECS_DATA_DIR)")
    down.add_argument("--endpoint", default=None, help="the controller (also MINECS_ENDPOINT)")
    down.add_argument(
        "--timeout", type=float, default=120.0, metavar="SECONDS", help="for the tasks, then the daemon"
    )
    down.set_defaults(handler=run_down)


def run_down(args: argparse.Namespace, config: settings.Settings) -> int:
    try:
        return asyncio.run(_down(args, config))
    except KeyboardInterrupt:
        return 130


def say(line: str) -> None:
    print(line, flush=True)


async def _down(args: argparse.Namespace, config: settings.Settings) -> int:
    from minecs.datadir import recorded_pid

    data_dir: Path = args.data_dir or config.data_dir
    pid = recorded_pid(data_dir)
    if pid is None or not is_minecs(pid):
        # Not ours to stop: a controller that no 'minecs up' of this data dir runs may run a fleet.
        say(f"no minecs up running (no live one in {data_dir / 'up.pid'}): no task to stop")
        return 0 if await _sweep(config, data_dir / "agent") else 1
    stopped = await _stop_tasks(args, config)
    if not await _stop_daemon(pid, args.timeout):
        print(f"minecs: minecs up (pid {pid}) did not exit within {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0 if await _sweep(config, data_dir / "agent") and stopped else 1


def _query(**values: str) -> str:
    return f"?{urlencode(values)}"


async def _stop_tasks(args: argparse.Namespace, config: settings.Settings) -> bool:
    """Steps 1 and 2; False when tasks were still running at the timeout."""
    from minecs.cli.client import admin_call

    async def call(method: str, path: str, body: Any = None) -> Any:
        return await admin_call(args, config, method, path, body)

    clusters = [c["clusterName"] for c in (await call("GET", "/v1/clusters"))["clusters"]]
    daemon_groups: set[str] = set()
    for cluster in clusters:
        for service in (await call("GET", f"/v1/services{_query(cluster=cluster)}"))["services"]:
            name = service["serviceName"]
            if service.get("schedulingStrategy") == "DAEMON":
                daemon_groups.add(f"{cluster}/service:{name}")
                say(f"service/{name} is a DAEMON service: its tasks go with the agent")
            elif service["status"] == "ACTIVE" and service["desiredCount"] > 0:
                body = {"cluster": cluster, "desiredCount": 0}
                await call("PATCH", f"/v1/services/{quote(name, safe='')}", body)
                say(f"service/{name} scaled to 0")
        for task in (await call("GET", f"/v1/tasks{_query(cluster=cluster)}"))["tasks"]:
            group = str(task.get("group") or "")
            if task["desiredStatus"] == "RUNNING" and not group.startswith("service:"):
                body = {"cluster": cluster, "reason": DOWN_REASON}
                await call("POST", f"/v1/tasks/{_short(task['taskArn'])}/stop", body)
                say(f"task/{_short(task['taskArn'])} stopping")

    async def running() -> list[str]:
        return [
            _short(t["taskArn"])
            for cluster in clusters
            for t in (await call("GET", f"/v1/tasks{_query(cluster=cluster)}"))["tasks"]
            if t["lastStatus"] != "STOPPED" and f"{cluster}/{t.get('group')}" not in daemon_groups
        ]

    return await _wait_stopped(running, args.timeout)


async def _wait_stopped(running: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    left: list[str] = await running()
    if left:
        say(f"waiting for {len(left)} tasks to stop")
    while left and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        left = await running()
    if left:
        print(
            f"minecs: {len(left)} tasks still running after {within:g} s ({', '.join(left)});"
            " their containers are removed with the agent's",
            file=sys.stderr,
        )
        return False
    say("all tasks stopped")
    return True


def _short(arn: object) -> str:
    return str(arn).rsplit("/", 1)[-1]


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def is_minecs(pid: int) -> bool:
    """``pid`` runs, and is a minecs process (an id left in a file by a killed one may be reused)."""
    try:
        return alive(pid) and b"minecs" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc
        return alive(pid)


async def _stop_daemon(pid: int, within: float) -> bool:
    """Step 3: SIGTERM, then wait for the exit; False when it outlived ``within`` seconds."""
    os.kill(pid, signal.SIGTERM)
    say(f"minecs up (pid {pid}) stopping")
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_S)
    say(f"minecs up (pid {pid}) exited")
    return True


async def _sweep(config: settings.Settings, agent_dir: Path) -> bool:
    """Steps 4 and 5; False when a container of the instance is left."""
    from agent.runtime.docker import DockerDriver
    from agent.tasks.sweep import sweep

    driver = await DockerDriver.connect(config.docker.host or None, workers=config.docker.workers)
    try:
        swept = await sweep(driver, agent_dir)
    finally:
        await driver.close()
    say(
        f"removed {swept.containers} containers and {swept.volumes} task volumes"
        f" of {swept.tasks} tasks the agent kept"
    )
    if swept.left:
        print(f"minecs: containers left: {', '.join(swept.left)}", file=sys.stderr)
        return False
    say("no task container left")
    return True
