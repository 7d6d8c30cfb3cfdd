"""Declarative apply: created, then unchanged on a re-apply, configured when something changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minecs.controlplane.apply import apply
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from minecs.manifests import parse_text
from tests.conftest import REPO_ROOT

DEMO = (REPO_ROOT / "manifests" / "examples" / "demo.yaml").read_text()


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    opened = await ControlPlane.open(tmp_path, Identity())
    yield opened
    await opened.close()


def outcomes(results: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(r.kind, r.name, r.outcome) for r in results]


async def test_apply_is_declarative(plane: ControlPlane) -> None:
    first = await apply(plane, parse_text(DEMO, "demo.yaml"))
    assert outcomes(first) == [
        ("Cluster", "default", "configured"),  # the default cluster exists from the start; settings changed
        ("TaskDefinition", "demo-web", "created"),
        ("Service", "demo-web", "created"),
    ]
    again = await apply(plane, parse_text(DEMO, "demo.yaml"))
    assert [o for _, _, o in outcomes(again)] == ["unchanged", "unchanged", "unchanged"]
    changed = DEMO.replace("desiredCount: 2", "desiredCount: 3").replace("memory: 64", "memory: 96")
    third = await apply(plane, parse_text(changed, "demo.yaml"))
    assert outcomes(third)[1:] == [
        ("TaskDefinition", "demo-web", "created"),
        ("Service", "demo-web", "configured"),
    ]
    service = await plane.services.get(None, "demo-web")
    assert service["desiredCount"] == 3
    assert service["taskDefinition"].endswith("task-definition/demo-web:2")
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY", "ACTIVE"]
    disabled = DEMO.replace("value: enabled", "value: disabled")
    assert outcomes(await apply(plane, parse_text(disabled, "demo.yaml")))[0] == (
        "Cluster",
        "default",
        "configured",
    )


async def test_apply_turns_execute_command_on_and_off(plane: ControlPlane) -> None:
    await apply(plane, parse_text(DEMO, "demo.yaml"))
    assert (await plane.services.get(None, "demo-web"))["enableExecuteCommand"] is True  # the example's
    disabled = DEMO.replace("enableExecuteCommand: true", "enableExecuteCommand: false")
    assert outcomes(await apply(plane, parse_text(disabled, "demo.yaml")))[2][2] == "configured"
    assert (await plane.services.get(None, "demo-web"))["enableExecuteCommand"] is False
    assert outcomes(await apply(plane, parse_text(disabled, "demo.yaml")))[2][2] == "unchanged"
    assert outcomes(await apply(plane, parse_text(DEMO, "demo.yaml")))[2][2] == "configured"


async def test_missing_only_creates_once_and_then_keeps_every_change(plane: ControlPlane) -> None:
    """``minecs up --seed``: the first start creates; later starts skip what the user has changed."""
    first = await apply(plane, parse_text(DEMO, "demo.yaml"), missing_only=True)
    assert outcomes(first) == [
        ("Cluster", "default", "configured"),  # exists from the start, but never held containerInsights
        ("TaskDefinition", "demo-web", "created"),
        ("Service", "demo-web", "created"),
    ]
    mine = DEMO.replace("desiredCount: 2", "desiredCount: 5").replace("memory: 64", "memory: 96")
    mine = mine.replace("value: enabled", "value: disabled")
    await apply(plane, parse_text(mine, "demo.yaml"))
    again = await apply(plane, parse_text(DEMO, "demo.yaml"), missing_only=True)
    assert [o for _, _, o in outcomes(again)] == ["skipped", "skipped", "skipped"]
    service = await plane.services.get(None, "demo-web")
    assert (service["desiredCount"], service["taskDefinition"].rsplit(":", 1)[-1]) == (5, "2")
    assert await plane.taskdefs.list_arns(family="demo-web") == [
        "arn:aws:ecs:us-east-1:000000000000:task-definition/demo-web:1",
        "arn:aws:ecs:us-east-1:000000000000:task-definition/demo-web:2",
    ]
    (cluster,), _ = await plane.clusters.describe(["default"])
    assert cluster["settings"] == [{"name": "containerInsights", "value": "disabled"}]
