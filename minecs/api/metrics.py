"""The controller's Prometheus metrics (docs/metrics.md): services, clusters, API requests, reconcile loop.

Service and cluster series are built from the store on every scrape (a custom collector over a
snapshot taken on the event loop), so a deleted service or cluster has no series at the next scrape
and no label set outlives its object. API requests are counted by a middleware with a bounded
``operation`` label: the ECS operation name on the JSON 1.1 front end, the route pattern elsewhere,
``other`` for anything unknown. The reconcile loop reports each pass (``ReconcileObserver``).

``GET /metrics`` is unauthenticated, like ``/healthz``: it says how many tasks run, not what is in them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric

from minecs.api.ecs.common import OPERATIONS, operation_name
from minecs.controlplane.plane import ControlPlane

SERVICE_LABELS = ("cluster_name", "service_name")
ROLLOUT_STATES = ("IN_PROGRESS", "COMPLETED", "FAILED")
TASK_STATES = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "STOPPED")


@dataclass(frozen=True)
class ClusterState:
    name: str
    services: list[Mapping[str, Any]]
    tasks: list[Mapping[str, Any]]
    instances: list[Mapping[str, Any]]


class ControllerMetrics:
    """Request and reconcile metrics on the registry passed in; store-derived series per scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = PromCounter(
            "minecs_api_requests",
            "API requests by operation and HTTP status.",
            ("operation", "code"),
            registry=registry,
        )
        self.latency = Histogram(
            "minecs_api_request_duration_seconds",
            "API request duration by operation and HTTP status (a parked agent poll counts its wait).",
            ("operation", "code"),
            registry=registry,
        )
        self.reconcile = Histogram(
            "minecs_reconcile_duration_seconds", "One pass of the reconcile loop.", registry=registry
        )
        self.queue = Gauge(
            "minecs_reconcile_queue_depth", "Services due in the current reconcile pass.", registry=registry
        )
        self.failures = PromCounter(
            "minecs_reconcile_failures",
            "Objects a reconcile pass could not handle and skipped (service, task, cluster).",
            ("kind",),
            registry=registry,
        )

    # ReconcileObserver
    def pass_started(self, services: int) -> None:
        self.queue.set(services)

    def pass_finished(self, seconds: float) -> None:
        self.reconcile.observe(seconds)
        self.queue.set(0)

    def object_failed(self, kind: str) -> None:
        self.failures.labels(kind=kind).inc()


def operation_of(request: web.Request) -> str:
    """A bounded name for what the request asked: the ECS operation, or the route pattern."""
    if request.path == "/" and request.method == "POST":
        name = operation_name(request.headers.get("X-Amz-Target", ""))
        return name if name in OPERATIONS else "other"
    resource = request.match_info.route.resource
    if resource is None:
        return "other"
    return f"{request.method} {resource.canonical}"


def middleware(metrics: ControllerMetrics) -> Any:
    # Each (operation, code)'s children, looked up once: labels() takes a lock and checks its
    # arguments, twice a request, a thirtieth of a request's CPU under load. Both are bounded sets.
    children: dict[tuple[str, int], tuple[Any, Any]] = {}

    @web.middleware
    async def counted(request: web.Request, handler: Any) -> web.StreamResponse:
        began = time.monotonic()
        code = 500
        try:
            response: web.StreamResponse = await handler(request)
            code = response.status
            return response
        except web.HTTPException as exc:
            code = exc.status
            raise
        finally:
            key = (operation_of(request), code)
            found = children.get(key)
            if found is None:
                found = children[key] = (
                    metrics.requests.labels(key[0], str(code)),
                    metrics.latency.labels(key[0], str(code)),
                )
            found[0].inc()
            found[1].observe(time.monotonic() - began)

    return counted


async def cluster_states(plane: ControlPlane) -> list[ClusterState]:
    states = []
    for arn in await plane.clusters.list_arns():
        name = arn.rsplit("/", 1)[-1]
        states.append(
            ClusterState(
                name=name,
                services=[s for s in await plane.services.in_cluster(name) if s["status"] != "INACTIVE"],
                tasks=list(await plane.tasks.in_cluster(name)),
                instances=list(await plane.instances.in_cluster(name)),
            )
        )
    return states


def families(states: Iterable[ClusterState]) -> list[Metric]:
    """The service and cluster series of one scrape (pure)."""
    made = _empty_families()
    for state in states:
        for service in state.services:
            _add_service(made, state.name, service)
        _add_cluster(made, state)
    return list(made.values())


def _empty_families() -> dict[str, GaugeMetricFamily]:
    """Every family of a scrape, keyed by a short name, before any series is added."""
    return {
        "desired": GaugeMetricFamily(
            "ecs_service_desired_tasks", "The service's desiredCount.", labels=SERVICE_LABELS
        ),
        "running": GaugeMetricFamily(
            "ecs_service_running_tasks", "The service's RUNNING tasks.", labels=SERVICE_LABELS
        ),
        "pending": GaugeMetricFamily(
            "ecs_service_pending_tasks", "The service's PENDING tasks.", labels=SERVICE_LABELS
        ),
        "deployments": GaugeMetricFamily(
            "ecs_service_deployments",
            "The service's deployments (PRIMARY and ACTIVE).",
            labels=SERVICE_LABELS,
        ),
        "rollout": GaugeMetricFamily(
            "ecs_service_rollout_state",
            "1 for the PRIMARY deployment's rolloutState.",
            labels=(*SERVICE_LABELS, "rollout_state"),
        ),
        "tasks": GaugeMetricFamily(
            "ecs_cluster_tasks", "Tasks by last status.", labels=("cluster_name", "status")
        ),
        "services": GaugeMetricFamily(
            "ecs_cluster_services", "Services not INACTIVE.", labels=("cluster_name",)
        ),
        "instances": GaugeMetricFamily(
            "ecs_cluster_container_instances",
            "Registered container instances by whether their agent is connected.",
            labels=("cluster_name", "agent_connected"),
        ),
    }


def _add_service(made: dict[str, GaugeMetricFamily], cluster: str, service: Mapping[str, Any]) -> None:
    labels = (cluster, str(service["serviceName"]))
    made["desired"].add_metric(labels, service["desiredCount"])
    made["running"].add_metric(labels, service["runningCount"])
    made["pending"].add_metric(labels, service["pendingCount"])
    made["deployments"].add_metric(labels, len(service["deployments"]))
    rollout = service["deployments"][0].get("rolloutState") if service["deployments"] else None
    for name in ROLLOUT_STATES:
        made["rollout"].add_metric((*labels, name), 1 if rollout == name else 0)


def _add_cluster(made: dict[str, GaugeMetricFamily], state: ClusterState) -> None:
    by_status = Counter(str(t["lastStatus"]) for t in state.tasks)
    for status in TASK_STATES:
        made["tasks"].add_metric((state.name, status), by_status.get(status, 0))
    made["services"].add_metric((state.name,), len(state.services))
    connected = Counter(bool(i["agentConnected"]) for i in state.instances if i["status"] != "INACTIVE")
    for flag in (True, False):
        made["instances"].add_metric((state.name, str(flag).lower()), connected.get(flag, 0))


class _Static:
    def __init__(self, found: list[Metric]) -> None:
        self.found = found

    def collect(self) -> list[Metric]:
        return self.found


def route(metrics: ControllerMetrics, plane: ControlPlane) -> web.RouteDef:
    async def scrape(request: web.Request) -> web.Response:
        states = await cluster_states(plane)
        body = await asyncio.to_thread(
            lambda: generate_latest(_Static(families(states))) + generate_latest(metrics.registry)
        )
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get("/metrics", scrape)
