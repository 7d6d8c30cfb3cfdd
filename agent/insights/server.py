"""The agent's metrics endpoint, ``GET /metrics`` on 127.0.0.1:51680 by default (``agent.metrics_address``
and ``agent.metrics_port``), and its own health.

A scrape (``MetricsServer.render``) takes the engine's views on the event loop, then reads the kernel
and renders in a worker thread (``agent.insights.metrics``), one scrape at a time so the cgroup-directory cache
stays single-threaded. ``AgentHealth`` holds the agent's own metrics on a prometheus_client registry
passed in: Docker event lag and task reconcile durations (the engine reports them as its
``EngineObserver``), the state reports not yet acknowledged and the last controller contact (the
daemon's loops set them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as PromCounter

from agent.endpoints.server import LOOPBACK, SmallServer
from agent.insights.exposition import CONTENT_TYPE, render
from agent.insights.metrics import MIB, DirCache, InstanceView, TaskView, collect, task_views
from minecs.model.task import TaskAssignment, TaskSnapshot

DEFAULT_PORT = 51680
"""The controller's default ``agent_timeout``: silent this long, the agent counts as disconnected."""


class AgentHealth:
    """The agent's own metrics (an ``EngineObserver``); created on the registry passed in."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.contacted_at = 0.0
        self.event_lag = Histogram(
            "minecs_agent_docker_event_lag_seconds",
            "From Docker's event time to the agent routing the event to its task.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            registry=registry,
        )
        self.reconcile = Histogram(
            "minecs_agent_reconcile_duration_seconds",
            "One reconcile pass of a task (inspect, decide, start or stop).",
            registry=registry,
        )
        self.reports_pending = Gauge(
            "minecs_agent_state_reports_pending",
            "Task state reports not yet acknowledged.",
            registry=registry,
        )
        self.last_contact = Gauge(
            "minecs_agent_last_controller_contact_timestamp_seconds",
            "When the controller last answered.",
            registry=registry,
        )
        self.scrape_duration = Gauge(
            "minecs_agent_scrape_duration_seconds", "How long the previous scrape took.", registry=registry
        )
        self.scrape_errors = PromCounter(
            "minecs_agent_scrape_errors",
            "Containers that could not be read (exited mid-scrape).",
            registry=registry,
        )

    def event_handled(self, lag_seconds: float) -> None:
        self.event_lag.observe(lag_seconds)

    def reconciled(self, seconds: float) -> None:
        self.reconcile.observe(seconds)

    def contact(self) -> None:
        self.contacted_at = time.time()
        self.last_contact.set(self.contacted_at)

    def connected(self, within: float = 60.0) -> bool:
        """Whether the controller answered within ``within`` seconds (its default agent timeout)."""
        return time.time() - self.contacted_at < within


class MetricsServer:
    """``GET /metrics`` on 127.0.0.1; each scrape reads the kernel in a worker thread."""

    def __init__(
        self,
        health: AgentHealth,
        tasks: Callable[[], Mapping[str, tuple[TaskAssignment, TaskSnapshot | None]]],
        pids: Callable[[], Mapping[str, int]],
        instance: Callable[[], InstanceView],
    ) -> None:
        self.health, self.tasks, self.pids, self.instance = health, tasks, pids, instance
        self.cache = DirCache()
        self._one_at_a_time = asyncio.Lock()
        self._server: SmallServer | None = None

    async def render(self) -> bytes:
        async with self._one_at_a_time:
            began = time.monotonic()
            instance = self.instance()
            views = task_views(self.tasks(), self.pids())
            body = await asyncio.to_thread(self._render, views, instance)
            self.health.scrape_duration.set(time.monotonic() - began)
            return body

    def _render(self, views: list[TaskView], instance: InstanceView) -> bytes:
        families, errors = collect(views, instance, self.cache)
        if errors:
            self.health.scrape_errors.inc(errors)
        return render(families) + generate_latest(self.health.registry)

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(body=await self.render(), headers={"Content-Type": CONTENT_TYPE})

    async def start(self, port: int | None = None, host: str = LOOPBACK) -> int:
        """Serve ``/metrics`` on ``host:port`` (None: 51680, or a free port while another agent
        holds it); the port bound."""
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        self._server = SmallServer(app, what="metrics", flag="--metrics-port")
        return await self._server.start(port, default=DEFAULT_PORT, host=host)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()


def instance_view(
    cluster: str, instance_id: str, registered: Mapping[str, Any], connected: bool
) -> InstanceView:
    """The instance as registered (``host_resources()``: cpu units, memory MiB)."""
    return InstanceView(
        cluster=cluster,
        instance_id=instance_id,
        cpu_vcpus=int(registered["cpu"]) / 1024,
        memory_bytes=int(registered["memory"]) * MIB,
        connected=connected,
    )
