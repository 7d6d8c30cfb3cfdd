"""``minecs up``: a controller and an agent in one process, for one host.

The controller listens on 127.0.0.1 (port 7450 by default); the agent registers with it over real
HTTP, with a registration token the up command creates through the admin API, so the single-host
setup exercises exactly the protocol that edge hosts use. Data lives in ``<data-dir>`` (the store,
the admin credential) and ``<data-dir>/agent`` (the agent's identity and state).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent.daemon import AgentStart, run_agent
from minecs.adminclient import admin_request
from minecs.aiotasks import run_roots, sleep_or_wake
from minecs.controller import Address, started
from minecs.controlplane.apply import SKIPPED
from minecs.datadir import pid_file
from minecs.errors import FieldProblem, MinecsError, ValidationError
from minecs.manifestfiles import read_sources
from minecs.manifests import raw_documents
from minecs.settings import Settings


@dataclass(frozen=True)
class _Local:
    """The local controller as its admin client sees it."""

    endpoint: str
    data_dir: Path


async def _admin(settings: _Local, method: str, path: str, body: Any = None) -> Any:
    return await admin_request(settings.endpoint, settings.data_dir, method, path, body)


@dataclass(frozen=True)
class Manifests:
    """What ``minecs up`` applies once its agent is registered: ``apply`` over what exists (as
    ``minecs apply``), ``seed`` only where the object does not exist yet (``make up``'s demo)."""

    apply: tuple[str, ...] = ()
    seed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.apply or self.seed)


async def _apply_when_ready(settings: _Local, manifests: Manifests, stop: asyncio.Event) -> None:
    """Once the local agent is registered, apply the manifests and say where to look; then wait for stop."""
    while not (await _admin(settings, "GET", "/v1/instances"))["containerInstances"]:
        if await sleep_or_wake(0.2, stop):
            return
    skipped = []
    for paths, missing_only in ((manifests.seed, True), (manifests.apply, False)):
        if not paths:
            continue
        answer = await _admin(
            settings, "POST", "/v1/apply", {"documents": _documents(paths), "missingOnly": missing_only}
        )
        for result in answer["results"]:
            name = f"{result['kind'].lower()}/{result['name']}"
            if result["outcome"] == SKIPPED:
                skipped.append(name)
            else:
                print(f"{name} {result['outcome']}", flush=True)
    if skipped:
        print(
            f"{', '.join(skipped)}: exist, left as they are (the demo manifests create what is missing only;"
            f" 'minecs apply -f {' -f '.join(manifests.seed)}' applies them over your changes)",
            flush=True,
        )
    print(
        f"minecs is up: controller {settings.endpoint}, admin credential {settings.data_dir / 'credentials'}.\n"
        f"  minecs get services --data-dir {settings.data_dir} --endpoint {settings.endpoint}\n"
        f"  minecs get tasks -o wide --data-dir {settings.data_dir} --endpoint {settings.endpoint}\n"
        f"  minecs describe service NAME --data-dir {settings.data_dir} --endpoint {settings.endpoint}\n"
        f"  minecs logs TASK-ID -c web -f --data-dir {settings.data_dir} --endpoint {settings.endpoint}",
        flush=True,
    )
    await stop.wait()


def _documents(paths: tuple[str, ...]) -> list[Any]:
    problems: list[FieldProblem] = []
    documents = [
        d for name, text in read_sources(list(paths), sys.stdin, problems) for d in raw_documents(text, name)
    ]
    if problems:
        raise ValidationError(problems)
    return documents


async def run_up(
    config: Settings,
    address: Address,
    agent: AgentStart,
    stop: asyncio.Event,
    manifests: Manifests | None = None,
) -> bool:
    """Run both until ``stop``, each on its section of ``config``; True when everything ended cleanly.

    The controller binds its port before any root starts, so a port taken is a ``PortTakenError``
    at once; an error of ours that ends a root (an agent port taken) is raised once the rest have
    stopped, for the command to print as one line."""
    controller = _Local(address.endpoint, config.data_dir)

    async def agent_root() -> None:
        token = (
            agent.token
            or (await _admin(controller, "POST", "/v1/tokens", {"ttlSeconds": 600, "uses": 1}))["token"]
        )
        start = replace(agent, endpoint=controller.endpoint, token=token)
        await run_agent(config.agent, config.docker, start, stop)

    async def apply_root() -> None:
        await _apply_when_ready(controller, manifests or Manifests(), stop)

    with pid_file(config.data_dir):  # how 'minecs down' finds this process
        async with started(config, address) as serving:
            roots = {"controller": lambda: serving.run(stop), "agent": agent_root}
            if manifests:
                roots["apply"] = apply_root
            outcomes = await run_roots(roots, stop)
    for outcome in outcomes:
        if isinstance(outcome.error, MinecsError):
            raise outcome.error
    return all(o.error is None for o in outcomes)
