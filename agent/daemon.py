"""The agent daemon: register with the controller, pull assignments, run them, report every change.

Roots (run under ``minecs.aiotasks.run_roots``):

* **poll**: long-polls the instance's assignment set and applies every task to the engine
  (level-triggered: the whole set each time), and serves the log requests listed with it;
* **report**: sends the engine's state changes, keeping the latest unacknowledged snapshot of each
  task and resending until the controller acknowledges its ``seq`` (the agent's own state file makes
  that survive agent restarts too);
* the engine itself, under ``Engine.running()``;

and two local servers: the task metadata endpoint v4 (``agent.endpoints.metadata``; containers are told its
address) and the introspection API on 127.0.0.1:51678 (``agent.endpoints.introspection``).

While the controller is unreachable both loops back off (1 s doubling to 30 s) and the engine keeps
running, restarting and stopping tasks by the usual rules: edge autonomy. A refused registration
(bad or used token) stops the daemon with the controller's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry

from agent.endpoints.introspection import DEFAULT_PORT as DEFAULT_INTROSPECTION_PORT
from agent.endpoints.introspection import build_app as build_introspection
from agent.endpoints.introspection import serve as serve_introspection
from agent.endpoints.metadata import DEFAULT_PORT as DEFAULT_METADATA_PORT
from agent.endpoints.metadata import Endpoints, MetadataServer, load_key
from agent.endpoints.server import SmallServer
from agent.insights.server import DEFAULT_PORT as DEFAULT_METRICS_PORT
from agent.insights.server import AgentHealth, MetricsServer, instance_view
from agent.link.client import ControllerClient, Identity, load_identity, save_identity
from agent.link.execs import ExecSessions
from agent.link.logupload import LogUploads
from agent.link.served import Served
from agent.provision.ports import DEFAULT_RESERVED
from agent.runtime.base import Driver
from agent.runtime.docker import DockerDriver
from agent.tasks.engine import Engine, EngineSettings, PullBehavior
from minecs.aiotasks import run_roots, sleep_or_wake
from minecs.errors import ControllerRefusedError, ControllerUnavailableError
from minecs.logs import get_logger
from minecs.model.task import TaskAssignment
from minecs.model.taskdef import TaskDefinition
from minecs.model.wire import assignment_from_json, snapshot_to_json, taskdef_from_json_checked
from minecs.sdnotify import notify, watchdog

log = get_logger(__name__)

AGENT_VERSION = "0.1.0"
BACKOFF_START, BACKOFF_MAX = 1.0, 30.0

# What this agent can run, as ECS capability attributes (placement matches requiresAttributes).
CAPABILITIES = (
    "ecs.capability.container-ordering",
    "ecs.capability.container-health-check",
    "ecs.capability.task-eni",
    "ecs.capability.secrets.ssm.environment-variables",
    "ecs.capability.container-restart-policy",
    "ecs.capability.docker-plugin.local",
    "com.amazonaws.ecs.capability.privileged-container",
    "com.amazonaws.ecs.capability.task-iam-role",
    *(
        f"com.amazonaws.ecs.capability.logging-driver.{d}"
        for d in (
            "json-file",
            "none",
            "syslog",
            "journald",
            "gelf",
            "fluentd",
            "awslogs",
            "awsfirelens",
            "splunk",
        )
    ),
)


@dataclass(frozen=True)
class AgentSettings:
    endpoint: str
    data_dir: Path
    cluster: str = "default"
    token: str | None = None
    publish_address: str = "0.0.0.0"
    pull_behavior: PullBehavior = PullBehavior.DEFAULT
    labels: dict[str, str] = field(default_factory=dict)
    poll_wait: float = 20.0
    docker_host: str | None = None
    metadata_port: int = DEFAULT_METADATA_PORT
    """The task metadata endpoint's port (0: any free port; 51679 as ECS by default)."""
    introspection_port: int = DEFAULT_INTROSPECTION_PORT
    """The introspection API on 127.0.0.1 (51678 as ECS by default)."""
    metrics_port: int = DEFAULT_METRICS_PORT
    """Prometheus ``/metrics`` on 127.0.0.1 (51680 by default; docs/metrics.md)."""


def host_resources() -> dict[str, Any]:
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpu": (os.cpu_count() or 1) * 1024,
        "memory": memory_kib // 1024,
        "ports": sorted(DEFAULT_RESERVED),
    }


def registration_body(settings: AgentSettings, docker_version: str) -> dict[str, Any]:
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    attributes = [{"name": "ecs.os-type", "value": "linux"}, {"name": "ecs.cpu-architecture", "value": arch}]
    attributes += [{"name": name} for name in CAPABILITIES]
    return {
        "cluster": settings.cluster,
        "resources": host_resources(),
        "versionInfo": {"agentVersion": AGENT_VERSION, "dockerVersion": docker_version},
        "attributes": attributes,
    }


async def register(
    client: ControllerClient, settings: AgentSettings, docker_version: str, stop: asyncio.Event
) -> Identity | None:
    path = settings.data_dir / "instance.json"
    saved = load_identity(path)
    delay = BACKOFF_START
    while not stop.is_set():
        try:
            answer = await client.register(
                registration_body(settings, docker_version), token=settings.token, identity=saved
            )
        except ControllerUnavailableError as exc:
            log.warning("controller unreachable, registration retried", error=exc.message, retry_in=delay)
            await sleep_or_wake(delay, stop)
            delay = min(delay * 2, BACKOFF_MAX)
            continue
        identity = Identity(
            answer["instanceId"],
            answer.get("credential") or (saved.credential if saved else ""),
            answer["containerInstanceArn"],
            answer["cluster"],
        )
        save_identity(path, identity)
        log.info("registered", instance=identity.container_instance_arn, reused=saved is not None)
        return identity
    return None


async def run_agent(settings: AgentSettings, stop: asyncio.Event, driver: Driver | None = None) -> None:
    """The agent until ``stop``; ``driver`` replaces the Docker Engine (the benchmark's simulated agents)."""
    driver = driver or await DockerDriver.connect(settings.docker_host)
    try:
        async with aiohttp.ClientSession() as session:
            client = ControllerClient(settings.endpoint, session)
            identity = await register(client, settings, await driver.version(), stop)
            if identity is not None:
                await _serve(settings, stop, driver, client, identity)
    finally:
        await driver.close()


async def _serve(
    settings: AgentSettings, stop: asyncio.Event, driver: Driver, client: ControllerClient, identity: Identity
) -> None:
    """Registered: the engine, the three local servers and the poll and report loops, until ``stop``."""
    holder: list[Engine] = []
    metadata = MetadataServer(
        driver,
        load_key(settings.data_dir),
        lambda: holder[0].tasks() if holder else {},
        port=settings.metadata_port,
    )
    endpoints = await metadata.start()
    health = AgentHealth(CollectorRegistry())
    health.contact()  # registration was answered
    engine = _engine(driver, settings, identity, endpoints, health)
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
                "poll": lambda: _poll(client, identity, engine, health, wait=settings.poll_wait, stop=stop),
                "report": lambda: _report(client, identity, changes, health, stop),
                "watchdog": lambda: watchdog(stop),
            },
            stop,
            # Both loops hold nothing that is not already in the engine's state file.
            graceful=1.0,
        )


def _engine(
    driver: Driver, settings: AgentSettings, identity: Identity, endpoints: Endpoints, health: AgentHealth
) -> Engine:
    return Engine(
        driver,
        EngineSettings(
            instance_id=identity.instance_id,
            cluster=identity.cluster,
            publish_address=settings.publish_address,
            pull_behavior=settings.pull_behavior,
            extra_labels=settings.labels,
            state_path=settings.data_dir / "agent-state.json",
            secrets_dir=settings.data_dir / "secrets",
            metadata=endpoints,
        ),
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
        lambda: instance_view(identity.cluster, identity.instance_id, resources, health.connected()),
    )
    metrics_port = await metrics.start(settings.metrics_port)
    log.info("metrics served", address=f"127.0.0.1:{metrics_port}")
    return metrics


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


async def _poll(
    client: ControllerClient,
    identity: Identity,
    engine: Engine,
    health: AgentHealth,
    *,
    wait: float,
    stop: asyncio.Event,
) -> None:
    served = {
        "logRequests": LogUploads(client, identity, engine),
        "execRequests": ExecSessions(client, identity, engine),
    }
    try:
        await _poll_assignments(client, engine, identity, served, health=health, wait=wait, stop=stop)
    finally:
        for requests in served.values():
            await requests.close()


class DecodedAssignments:
    """Decodes a poll answer, reusing the decoding of what is unchanged since the last answer.

    Every answer holds the instance's whole desired set. Comparing two dicts is far cheaper than
    decoding them again, so a task definition (sent once per answer, named by each task's
    ``taskDefinitionRef``) and a task whose JSON form is unchanged keep their decoding. What an
    answer leaves out is forgotten. A task with its definition inline (``taskDefinition``) is
    decoded too."""

    def __init__(self) -> None:
        self._definitions: dict[str, tuple[dict[str, Any], TaskDefinition]] = {}
        self._tasks: dict[str, tuple[dict[str, Any], TaskAssignment]] = {}

    def of(self, answer: Mapping[str, Any]) -> list[TaskAssignment]:
        definitions: dict[str, tuple[dict[str, Any], TaskDefinition]] = {}
        changed: set[str] = set()
        for ref, raw_definition in (answer.get("taskDefinitions") or {}).items():
            known = self._definitions.get(ref)
            if known is None or known[0] != raw_definition:
                known = raw_definition, taskdef_from_json_checked(raw_definition)
                changed.add(ref)
            definitions[ref] = known
        decoded = {ref: definition for ref, (_, definition) in definitions.items()}
        tasks: dict[str, tuple[dict[str, Any], TaskAssignment]] = {}
        for raw in answer["tasks"]:
            known_task = self._tasks.get(raw["taskArn"])
            if known_task is None or known_task[0] != raw or raw.get("taskDefinitionRef") in changed:
                known_task = raw, assignment_from_json(raw, decoded)
            tasks[raw["taskArn"]] = known_task
        self._definitions, self._tasks = definitions, tasks
        return [assignment for _, assignment in tasks.values()]


async def _poll_assignments(
    client: ControllerClient,
    engine: Engine,
    identity: Identity,
    served: Mapping[str, Served],
    *,
    health: AgentHealth,
    wait: float,
    stop: asyncio.Event,
) -> None:
    since, delay = 0, BACKOFF_START
    decoded = DecodedAssignments()
    while not stop.is_set():
        try:
            answer = await client.assignments(identity, since, wait)
        except (ControllerUnavailableError, ControllerRefusedError) as exc:
            log.warning("assignments not fetched; tasks keep running", error=exc.message, retry_in=delay)
            await sleep_or_wake(delay, stop)
            delay = min(delay * 2, BACKOFF_MAX)
            continue
        delay = BACKOFF_START
        health.contact()
        for assignment in decoded.of(answer):
            engine.apply(assignment)
        for member, requests in served.items():
            requests.serve(answer.get(member) or [])
        since = int(answer["version"])


async def _report(
    client: ControllerClient,
    identity: Identity,
    changes: asyncio.Queue[Any],
    health: AgentHealth,
    stop: asyncio.Event,
) -> None:
    unacknowledged: dict[str, dict[str, Any]] = {}
    delay = BACKOFF_START
    while not stop.is_set():
        if not unacknowledged:
            snapshot = await changes.get()
            unacknowledged[snapshot.task_arn] = snapshot_to_json(snapshot)
        while not changes.empty():  # a later snapshot of a task replaces the earlier one
            snapshot = changes.get_nowait()
            unacknowledged[snapshot.task_arn] = snapshot_to_json(snapshot)
        health.reports_pending.set(len(unacknowledged))
        try:
            acknowledged = await client.report(identity, list(unacknowledged.values()))
        except ControllerRefusedError as exc:
            # Resending what the controller refuses cannot succeed; the next change is sent afresh.
            log.error("controller refused state reports", error=exc.message, dropped=len(unacknowledged))
            unacknowledged.clear()
            continue
        except ControllerUnavailableError as exc:
            log.warning(
                "state not reported yet", error=exc.message, pending=len(unacknowledged), retry_in=delay
            )
            await sleep_or_wake(delay, stop)
            delay = min(delay * 2, BACKOFF_MAX)
            continue
        delay = BACKOFF_START
        health.contact()
        for arn, seq in acknowledged.items():
            if arn in unacknowledged and unacknowledged[arn]["seq"] <= seq:
                del unacknowledged[arn]
        health.reports_pending.set(len(unacknowledged))
