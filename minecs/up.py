"""``minecs up``: a controller and an agent in one process, for one host.

The controller listens on 127.0.0.1 (port 7450 by default); the agent registers with it over real
HTTP, with a registration token the up command creates through the admin API, so the single-host
setup exercises exactly the protocol that edge hosts use. Data lives in ``<data-dir>`` (the store,
the admin credential) and ``<data-dir>/agent`` (the agent's identity and state).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp

from agent.daemon import AgentSettings, run_agent
from minecs.aiotasks import run_roots
from minecs.controller import ControllerSettings, serve
from minecs.controlplane.auth import load_or_create_admin
from minecs.errors import MinecsError


async def _token(settings: ControllerSettings) -> str:
    admin = load_or_create_admin(settings.data_dir)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{settings.endpoint}/v1/tokens",
            json={"ttlSeconds": 600, "uses": 1},
            headers={"Authorization": f"MinecsAdmin {admin.access_key_id}:{admin.secret_access_key}"},
        ) as response,
    ):
        if response.status != 200:
            raise MinecsError(f"controller refused a registration token: {await response.text()}")
        return str((await response.json())["token"])


async def run_up(controller: ControllerSettings, agent: AgentSettings, stop: asyncio.Event) -> bool:
    """Run both until ``stop``; True when everything ended cleanly."""
    ready = asyncio.Event()

    async def agent_root() -> None:
        await ready.wait()
        token = agent.token or await _token(controller)
        await run_agent(replace(agent, endpoint=controller.endpoint, token=token), stop)

    outcomes = await run_roots(
        {"controller": lambda: serve(controller, stop, ready), "agent": agent_root}, stop
    )
    return all(o.error is None for o in outcomes)
