"""Clusters in the control plane: default on first use, idempotent create, guarded delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minecs.controlplane.clusters import Clusters, Failure
from minecs.controlplane.taskdefs import Identity
from minecs.errors import ClientError, NotFoundError
from minecs.model.service import ClusterSetting, ClusterSpec
from minecs.store.sqlite import SqliteStore


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Clusters, SqliteStore]]:
    store = await SqliteStore.open(tmp_path / "db")
    yield Clusters(store, Identity("us-east-1", "123456789012")), store
    await store.close()


async def test_default_cluster_exists_on_first_use(setup: tuple[Clusters, SqliteStore]) -> None:
    clusters, _ = setup
    default = await clusters.get_active(None)
    assert (default["clusterName"], default["status"]) == ("default", "ACTIVE")
    assert default["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/default"
    assert await clusters.list_arns() == ["arn:aws:ecs:us-east-1:123456789012:cluster/default"]


async def test_create_is_idempotent_and_describe_reports_missing(setup: tuple[Clusters, SqliteStore]) -> None:
    clusters, _ = setup
    first = await clusters.create(ClusterSpec(cluster_name="edge", tags=()))
    again = await clusters.create(
        ClusterSpec(cluster_name="edge", settings=(ClusterSetting("containerInsights", "enabled"),))
    )
    assert first == again
    found, failures = await clusters.describe(["edge", "arn:aws:ecs:us-east-1:123456789012:cluster/nope"])
    assert [c["clusterName"] for c in found] == ["edge"]
    assert failures == [Failure("arn:aws:ecs:us-east-1:123456789012:cluster/nope")]
    with pytest.raises(NotFoundError) as caught:
        await clusters.get_active("nope")
    assert (caught.value.code, caught.value.message) == ("ClusterNotFoundException", "Cluster not found.")


async def test_settings_merge(setup: tuple[Clusters, SqliteStore]) -> None:
    clusters, _ = setup
    await clusters.create(
        ClusterSpec(cluster_name="edge", settings=(ClusterSetting("containerInsights", "disabled"),))
    )
    updated = await clusters.update_settings("edge", [ClusterSetting("containerInsights", "enhanced")])
    assert updated["settings"] == [{"name": "containerInsights", "value": "enhanced"}]


@pytest.mark.parametrize(
    ("kind", "body", "code"),
    [
        ("service", {"status": "ACTIVE"}, "ClusterContainsServicesException"),
        ("task", {"lastStatus": "RUNNING"}, "ClusterContainsTasksException"),
        ("instance", {"status": "ACTIVE"}, "ClusterContainsContainerInstancesException"),
    ],
)
async def test_delete_is_refused_while_the_cluster_holds_things(
    setup: tuple[Clusters, SqliteStore], kind: str, body: dict[str, str], code: str
) -> None:
    clusters, store = setup
    await clusters.create(ClusterSpec(cluster_name="edge"))
    await store.create(kind, "x", body, cluster="edge")
    with pytest.raises(ClientError) as caught:
        await clusters.delete("edge")
    assert caught.value.code == code


async def test_delete_makes_the_cluster_inactive_and_the_name_reusable(
    setup: tuple[Clusters, SqliteStore],
) -> None:
    clusters, store = setup
    await clusters.create(ClusterSpec(cluster_name="edge"))
    await store.create("task", "done", {"lastStatus": "STOPPED"}, cluster="edge")
    deleted = await clusters.delete("edge")
    assert deleted["status"] == "INACTIVE"
    found, _ = await clusters.describe(["edge"])
    assert found[0]["status"] == "INACTIVE"
    assert "arn:aws:ecs:us-east-1:123456789012:cluster/edge" not in await clusters.list_arns()
    assert (await clusters.create(ClusterSpec(cluster_name="edge")))["status"] == "ACTIVE"


async def test_counts_come_from_the_status_index_without_reading_a_body(
    setup: tuple[Clusters, SqliteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    clusters, store = setup
    statuses = ["RUNNING", "RUNNING", "PENDING", "PROVISIONING", "STOPPED"]
    for n, status in enumerate(statuses):
        await store.create("task", f"t{n}", {"lastStatus": status}, cluster="edge")
    await store.create("task", "elsewhere", {"lastStatus": "RUNNING"}, cluster="other")
    for n, status in enumerate(["ACTIVE", "DRAINING", "INACTIVE"]):
        await store.create("instance", f"i{n}", {"status": status}, cluster="edge")
    await store.create("service", "edge/web", {"status": "ACTIVE"}, cluster="edge")
    await store.create("service", "edge/old", {"status": "INACTIVE"}, cluster="edge")
    monkeypatch.setattr(store, "_row", lambda row: pytest.fail(f"read the body of {row[1]}"))
    assert await clusters.counts("edge") == {
        "registeredContainerInstancesCount": 2,
        "runningTasksCount": 2,
        "pendingTasksCount": 2,
        "activeServicesCount": 1,
    }
