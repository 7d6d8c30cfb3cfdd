"""The agent daemon: register with the controller, pull assignments, run them, report every change.

Wiring only. Registration is ``agent.link.registration``; the roots (run under
``minecs.aiotasks.run_roots``) are the loops of ``agent.link.polling``:

* **poll**: long-polls the instance's assignment set and applies every task to the engine
  (level-triggered: the whole set each time), and serves the log and exec requests listed with it;
* **report**: sends the engine's state changes, keeping the latest unacknowledged snapshot of each
  task and resending until the controller acknowledges its ``seq`` (the agent's own state file makes
  that survive agent restarts too);
* the engine itself, under ``Engine.running()``;

and three local servers: the task metadata endpoint v4 (``agent.endpoints.metadata``; containers are
told its address), the introspection API (``agent.endpoints.introspection``) and the metrics server
(``agent.insights.server``), on ECS's ports 51679, 51678 and 51680 unless ``agent.*_port`` say
otherwise; the ports bound are logged in one ``agent listening`` line. While the controller is
unreachable both loops back off (1 s doubling to 30 s) and the engine keeps running, restarting
and stopping tasks by the usual rules: edge autonomy. A refused registration (bad or used token)
stops the daemon with the controller's message, and so does a first start without a token, before
anything else is done (``agent.link.registration.require_token``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from agent.endpoints.introspection import build_app as build_introspection
from agent.endpoints.introspection import serve as serve_introspection
from agent.endpoints.metadata import Endpoints, MetadataServer, load_key
from agent.insights.server import AgentHealth, MetricsServer, instance_view
from agent.link.client import Backoff, ControllerClient, Identity
from agent.link.polling import poll, report
from agent.link.registration import AGENT_VERSION, host_resources, register, require_token
from agent.provision.resources import InstanceFacts
from agent.runtime.base import Driver
from agent.runtime.docker import DockerDriver
from agent.tasks.engine import Engine
from minecs.aiotasks import run_roots
from minecs.logs import get_logger
from minecs.sdnotify import notify, watchdog
from minecs.settings import AgentSettings, DockerSettings

log = get_logger(__name__)


@dataclass(frozen=True)
class AgentStart:
    """What one agent process is told on its command line, not settings (those are ``minecs.settings``)."""

    endpoint: str
    """The controller's URL."""
    data_dir: Path
    """The agent's own directory: its identity, state file, secrets and metadata key."""
    cluster: str = "default"
    token: str | None = None
    """The registration token, needed at the first start only."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """``--label`` s, on every container."""


async def run_agent(
    settings: AgentSettings,
    docker: DockerSettings,
    start: AgentStart,
    stop: asyncio.Event,
    driver: Driver | None = None,
) -> None:
    """The agent until ``stop``; ``driver`` replaces the Docker Engine (the benchmark's simulated agents)."""
    require_token(start.data_dir, start.token)
    driver = driver or await DockerDriver.connect(docker.host or None, workers=docker.workers)
    try:
        async with aiohttp.ClientSession() as session:
            client = ControllerClient(start.endpoint, session)
            identity = await register(
                client,
                cluster=start.cluster,
                token=start.token,
                data_dir=start.data_dir,
                docker_version=await driver.version(),
                stop=stop,
                backoff=_backoff(settings),
            )
            if identity is not None:
                await _serve(_Wiring(settings, docker, start), stop, driver, client, identity)
    finally:
        await driver.close()


@dataclass(frozen=True)
class _Wiring:
    settings: AgentSettings
    docker: DockerSettings
    start: AgentStart


async def _serve(
    wiring: _Wiring, stop: asyncio.Event, driver: Driver, client: ControllerClient, identity: Identity
) -> None:
    """Registered: the engine, the three local servers and the poll and report loops, until ``stop``."""
    settings = wiring.settings
    health = AgentHealth(CollectorRegistry())
    health.contact()  # registration was answered
    async with contextlib.AsyncExitStack() as servers:  # each started one is stopped, whatever fails
        holder: list[Engine] = []
        metadata = MetadataServer(
            driver,
            load_key(wiring.start.data_dir),
            lambda: holder[0].tasks() if holder else {},
            port=settings.metadata_port,
        )
        servers.push_async_callback(metadata.stop)
        endpoints = await metadata.start()
        engine = _engine(driver, wiring, identity, endpoints, health)
        holder.append(engine)
        metrics = _metrics(settings, identity, engine, health)
        servers.push_async_callback(metrics.stop)
        metrics_port = await metrics.start(settings.metrics_port, settings.metrics_address)
        introspection, introspection_port = await serve_introspection(
            build_introspection(
                cluster=identity.cluster,
                instance_arn=identity.container_instance_arn,
                version=f"minecs agent {AGENT_VERSION}",
                lookup=engine.tasks,
            ),
            settings.introspection_port,
        )
        servers.push_async_callback(introspection.stop)
        log.info(
            "agent listening",
            metadata=endpoints.loopback,
            metadata_bridge=endpoints.bridge,
            introspection=f"http://127.0.0.1:{introspection_port}",
            metrics=f"http://{settings.metrics_address}:{metrics_port}/metrics",
        )
        await _run(wiring, stop, client=client, identity=identity, engine=engine, health=health)


async def _run(
    wiring: _Wiring,
    stop: asyncio.Event,
    *,
    client: ControllerClient,
    identity: Identity,
    engine: Engine,
    health: AgentHealth,
) -> None:
    """The engine and the roots, until ``stop``."""
    settings = wiring.settings
    changes = engine.subscribe()
    async with engine.running():
        notify(f"READY=1\nSTATUS=instance {identity.instance_id} registered")
        await run_roots(
            {
                "poll": lambda: poll(
                    client,
                    identity,
                    engine,
                    health,
                    wait=settings.poll_wait,
                    stop=stop,
                    backoff=_backoff(settings),
                ),
                "report": lambda: report(client, identity, changes, health, stop, backoff=_backoff(settings)),
                "watchdog": lambda: watchdog(stop),
            },
            stop,
            # Both loops hold nothing that is not already in the engine's state file.
            graceful=1.0,
        )


def _engine(
    driver: Driver, wiring: _Wiring, identity: Identity, endpoints: Endpoints, health: AgentHealth
) -> Engine:
    start = wiring.start
    return Engine(
        driver,
        wiring.settings.engine,
        InstanceFacts(identity.instance_id, wiring.docker.publish_address, start.labels, endpoints),
        state_path=start.data_dir / "agent-state.json",
        secrets_dir=start.data_dir / "secrets",
        observer=health,
    )


def _metrics(
    settings: AgentSettings, identity: Identity, engine: Engine, health: AgentHealth
) -> MetricsServer:
    resources = host_resources()
    return MetricsServer(
        health,
        engine.tasks,
        engine.pids,
        lambda: instance_view(
            identity.cluster, identity.instance_id, resources, health.connected(settings.connected_within)
        ),
    )


def _backoff(settings: AgentSettings) -> Backoff:
    """Each loop's own retry pacing, from the ``agent`` section."""
    return Backoff(settings.backoff_start, settings.backoff_max)
