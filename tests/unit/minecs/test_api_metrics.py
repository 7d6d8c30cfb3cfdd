"""The controller's /metrics over in-process HTTP: store-derived series, request counts, no stale series."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.apiclient import AUTH, Client, agent

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> Series:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    found: Series = {}
    for family in text_string_to_metric_families(await response.text()):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def one(found: Series, name: str, **labels: str) -> float:
    (value,) = [v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls]
    return value


async def test_service_and_cluster_series_follow_the_store(client: Client, plane: ControlPlane) -> None:
    """No agent: the tasks wait for capacity, so the deleted service drains at once."""
    await client.post("/v1/taskdefinitions", json=taskdef(container()), headers=AUTH)
    service = {"apiVersion": "minecs.dev/v1", "kind": "Service", "metadata": {"name": "web"}}
    service["spec"] = {"taskDefinition": "web", "desiredCount": 2}
    await client.post("/v1/apply", json={"documents": [service]}, headers=AUTH)
    await plane.services.reconcile("default/web")
    found = await scrape(client)
    web = {"cluster_name": "default", "service_name": "web"}
    assert one(found, "ecs_service_desired_tasks", **web) == 2
    assert one(found, "ecs_service_pending_tasks", **web) == 0
    assert one(found, "ecs_service_deployments", **web) == 1
    assert one(found, "ecs_service_rollout_state", **web, rollout_state="IN_PROGRESS") == 1
    by_status = {dict(ls)["status"]: v for (n, ls), v in found.items() if n == "ecs_cluster_tasks"}
    assert set(by_status) == {
        "PROVISIONING",
        "PENDING",
        "ACTIVATING",
        "RUNNING",
        "DEACTIVATING",
        "STOPPING",
        "STOPPED",
    }
    assert sum(by_status.values()) == 1, by_status  # the first task, waiting; no more launched meanwhile
    assert one(found, "ecs_cluster_services", cluster_name="default") == 1
    assert one(found, "ecs_cluster_container_instances", cluster_name="default", agent_connected="true") == 0
    assert one(found, "minecs_api_requests_total", operation="POST /v1/apply", code="200") == 1
    assert one(found, "minecs_api_request_duration_seconds_count", operation="POST /v1/apply") == 1

    await client.patch("/v1/services/web", json={"desiredCount": 0}, headers=AUTH)
    await client.delete("/v1/services/web", headers=AUTH)
    for _ in range(3):
        await plane.services.reconcile("default/web")
    gone = await scrape(client)
    assert not [k for k in gone if ("service_name", "web") in k[1]]  # a deleted service leaves no series
    assert one(gone, "ecs_cluster_services", cluster_name="default") == 0


async def test_instances_count_by_connection(client: Client, plane: ControlPlane) -> None:
    await agent(client, plane)
    found = await scrape(client)
    assert one(found, "ecs_cluster_container_instances", cluster_name="default", agent_connected="true") == 1
    assert one(found, "ecs_cluster_container_instances", cluster_name="default", agent_connected="false") == 0


async def test_operations_are_a_bounded_label_set(client: Client) -> None:
    await client.get("/v1/tasks/abc", headers=AUTH)
    await client.get("/no/such/path")
    await client.post("/", headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.NoSuchThing"})
    await client.post("/", headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
    operations = {
        dict(ls)["operation"] for (n, ls) in await scrape(client) if n == "minecs_api_requests_total"
    }
    assert operations == {"GET /v1/tasks/{id}", "other", "ListClusters"}
