"""What the API refuses so that nothing it stores can poison the reconcile loop (issue 15, item 2).

Each request is sent by the real botocore client; each refusal is a 400 with ECS's code, and the
store is unchanged afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from minecs.controlplane.plane import ControlPlane
from tests.taskdefs import container, taskdef
from tests.unit.minecs.botoclient import Ecs, add_instance

POISON = [{"type": "memberOf", "expression": "<x>"}]


async def test_member_of_expressions_placement_cannot_read_are_refused_where_they_enter(
    ecs: Ecs, plane: ControlPlane
) -> None:
    await add_instance(plane)
    code, message, status = await ecs.error(
        "register_task_definition", **taskdef(container()), placementConstraints=POISON
    )
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == "Invalid placement constraint expression: unsupported memberOf expression term '<x>'."
    await ecs("register_task_definition", **taskdef(container()))
    for operation, members in (
        ("run_task", {"taskDefinition": "web", "placementConstraints": POISON}),
        (
            "create_service",
            {"serviceName": "s", "taskDefinition": "web", "desiredCount": 1, "placementConstraints": POISON},
        ),
    ):
        code, message, status = await ecs.error(operation, **members)
        assert (code, status) == ("InvalidParameterException", 400), (operation, message)
        assert "'<x>'" in message
    assert await plane.tasks.in_cluster("default") == []
    assert await plane.services.in_cluster("default") == []


@pytest.mark.parametrize(
    ("settings", "sentence"),
    [
        ([{"value": "enabled"}], "A cluster setting needs a name; the only one is containerInsights."),
        (
            [{"name": "somethingElse", "value": "enabled"}],
            "Unknown cluster setting 'somethingElse'; the only one is containerInsights.",
        ),
        (
            [{"name": "containerInsights", "value": "on"}],
            "containerInsights must be one of enabled, disabled, enhanced.",
        ),
    ],
)
async def test_cluster_settings_other_than_container_insights_are_refused(
    ecs: Ecs, plane: ControlPlane, settings: list[dict[str, Any]], sentence: str
) -> None:
    for operation in ("update_cluster_settings", "update_cluster"):
        code, message, status = await ecs.error(operation, cluster="default", settings=settings)
        assert (code, status, message) == ("InvalidParameterException", 400, sentence)
    (cluster,) = (await ecs("describe_clusters", clusters=["default"]))["clusters"]
    assert cluster["settings"] == []
    updated = await ecs(
        "update_cluster_settings",
        cluster="default",
        settings=[{"name": "containerInsights", "value": "enhanced"}],
    )
    assert updated["cluster"]["settings"] == [{"name": "containerInsights", "value": "enhanced"}]


async def test_a_nameless_setting_left_in_the_store_does_not_break_later_updates(
    ecs: Ecs, plane: ControlPlane
) -> None:
    """A store written before settings were checked may hold one; it is dropped on the next update."""
    stored = await plane.store.get("cluster", "default")
    if stored is None:
        await plane.clusters.ensure_default()
        stored = await plane.store.get("cluster", "default")
    assert stored is not None
    await plane.store.update(
        "cluster",
        "default",
        {**stored.body, "settings": [{"value": "enabled"}]},
        expected_version=stored.version,
    )
    updated = await ecs(
        "update_cluster_settings",
        cluster="default",
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )
    assert updated["cluster"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]


async def test_desired_and_run_counts_are_bounded_as_in_ecs(ecs: Ecs, plane: ControlPlane) -> None:
    await ecs("register_task_definition", **taskdef(container()))
    code, message, _ = await ecs.error(
        "create_service", serviceName="s", taskDefinition="web", desiredCount=10**9
    )
    assert (code, message) == (
        "InvalidParameterException",
        "desiredCount must be between 0 and 5000 (ECS's tasks per service quota).",
    )
    await ecs("create_service", serviceName="s", taskDefinition="web", desiredCount=0)
    code, message, _ = await ecs.error("update_service", service="s", desiredCount=5001)
    assert (code, message) == (
        "InvalidParameterException",
        "desiredCount must be between 0 and 5000 (ECS's tasks per service quota).",
    )
    code, message, _ = await ecs.error("run_task", taskDefinition="web", count=11)
    assert (code, message) == ("InvalidParameterException", "count must be between 1 and 10.")
    assert await plane.tasks.in_cluster("default") == []
