"""The agent daemon: register with the controller, pull assignments, run them, report every change.

Wiring only. Registration is ``agent.link.registration``; the roots (run under
``minecs.aiotasks.run_roots``) are the loops of ``agent.link.polling``:

* **poll**: long-polls the instance's assignment set and applies every task to the engine
  (level-triggered: the whole set each time), and serves the log and exec requests listed with it;
* **report**: sends the engine's state changes, keeping the latest unacknowledged snapshot of each
  task and resending until the controller acknowledges its ``seq`` (the agent's own state file makes
  that survive agent restarts too);
* the engine itself, under ``Engine.running()``;

and two local servers: the task metadata endpoint v4 (``agent.endpoints.metadata``; containers are told its
address) and the introspection API on 127.0.0.1:51678 (``agent.endpoints.introspection``).

(the metrics server, ``agent.insights.server``, makes three). While the controller is unreachable
both loops back off (1 s doubling to 30 s) and the engine keeps
running, restarting and stopping tasks by the usual rules: edge autonomy. A refused registration
(bad or used token) stops the daemon with the controller's message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from agent.endpoints.introspection import build_app as build_introspection
from agent.endpoints.introspection import serve as serve_introspection
from agent.endpoints.metadata import Endpoints, MetadataServer, load_key
from agent.endpoints.server import SmallServer
from agent.insights.server import AgentHealth, MetricsServer, instance_view
from agent.link.client import Backoff, ControllerClient, Identity
from agent.link.polling import poll, report
from agent.link.registration import AGENT_VERSION, host_resources, register
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
    holder: list[Engine] = []
    metadata = MetadataServer(
        driver,
        load_key(wiring.start.data_dir),
        lambda: holder[0].tasks() if holder else {},
        port=settings.metadata_port,
    )
    endpoints = await metadata.start()
    health = AgentHealth(CollectorRegistry())
    health.contact()  # registration was answered
    engine = _engine(driver, wiring, identity, endpoints, health)
    holder.append(engine)
    metrics = await _start_metrics(settings, identity, engine, health)
    introspection = await serve_introspection(
        build_introspection(
            cluster=identity.cluster,
            instance_arn=identity.container_instance_arn,
            version=f"minecs agent {AGENT_VERSION}",
            lookup=engine.tasks,
        ),
        settings.introspection_port,
    )
    changes = engine.subscribe()
    async with engine.running(), _stopping(metadata, introspection, metrics):
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


async def _start_metrics(
    settings: AgentSettings, identity: Identity, engine: Engine, health: AgentHealth
) -> MetricsServer:
    resources = host_resources()
    metrics = MetricsServer(
        health,
        engine.tasks,
        engine.pids,
        lambda: instance_view(
            identity.cluster, identity.instance_id, resources, health.connected(settings.connected_within)
        ),
    )
    metrics_port = await metrics.start(settings.metrics_port)
    log.info("metrics served", address=f"127.0.0.1:{metrics_port}")
    return metrics


def _backoff(settings: AgentSettings) -> Backoff:
    """Each loop's own retry pacing, from the ``agent`` section."""
    return Backoff(settings.backoff_start, settings.backoff_max)


@contextlib.asynccontextmanager
async def _stopping(
    metadata: MetadataServer, introspection: SmallServer, metrics: MetricsServer
) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await metrics.stop()
        await introspection.stop()
        await metadata.stop()
