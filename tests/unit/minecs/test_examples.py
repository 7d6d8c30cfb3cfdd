"""Every example under manifests/examples loads, and round-trips through minecs without loss."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from minecs.manifests import Kind, parse_text
from minecs.model.codec import encode
from minecs.model.registered import from_json, register, spec_of, task_definition_arn, to_json
from minecs.model.taskdef import READ_ONLY_MEMBERS, Compatibility, TaskDefinitionSpec
from minecs.validation import parse_task_definition
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "manifests" / "examples"
FILES = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".json"))


def task_definitions(path: Path) -> list[TaskDefinitionSpec]:
    return [d.body for d in parse_text(path.read_text(), str(path)) if isinstance(d.body, TaskDefinitionSpec)]


def contained(given: Any, shown: Any, path: str = "") -> list[str]:
    """Where ``given`` (user input) is not found in ``shown`` (our output); empty lists may vanish."""
    if isinstance(given, dict):
        missing = []
        for key, value in given.items():
            if value in ([], {}, None) and key not in shown:
                continue
            if key not in shown:
                missing.append(f"{path}.{key}")
            else:
                missing += contained(value, shown[key], f"{path}.{key}")
        return missing
    if isinstance(given, list):
        if not isinstance(shown, list) or len(given) != len(shown):
            return [path]
        return [
            m
            for i, (g, s) in enumerate(zip(given, shown, strict=True))
            for m in contained(g, s, f"{path}[{i}]")
        ]
    return [] if given == shown else [f"{path}: {given!r} != {shown!r}"]


def test_the_examples_the_issue_names_are_here() -> None:
    names = {spec.family for path in FILES for spec in task_definitions(path)}
    assert {
        "webserver",
        "firelens-example",
        "db-migration-example",
        "xray-sidecar-example",
        "demo-web",
        "hello_world",
        "sidecar-app",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_loads_and_encodes_idempotently(path: Path) -> None:
    for spec in task_definitions(path):
        shown = encode(spec)
        assert parse_task_definition(shown) == spec


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("ecs-json/*.json")), ids=lambda p: p.name)
def test_ecs_json_round_trips_without_loss(path: Path) -> None:
    given = json.loads(path.read_text())
    if "taskDefinition" in given:
        given = {**given["taskDefinition"], "tags": given.get("tags", [])}
    given = {k: v for k, v in given.items() if k not in READ_ONLY_MEMBERS}
    (spec,) = task_definitions(path)
    assert contained(given, encode(spec)) == []


def test_firelens_and_sidecar_semantics_survive_loading() -> None:
    (firelens,) = task_definitions(EXAMPLES / "firelens.yaml")
    app = firelens.container("app")
    assert app is not None
    assert [(d.container_name, d.condition.value) for d in app.depends_on] == [("log_router", "START")]
    (xray,) = task_definitions(EXAMPLES / "xray-sidecar.yaml")
    daemon = xray.container("xray-daemon")
    assert daemon is not None
    assert not daemon.essential
    assert daemon.port_mappings[0].protocol.value == "udp"
    (migration,) = task_definitions(EXAMPLES / "db-migration.yaml")
    app = migration.container("app")
    assert app is not None
    assert app.depends_on[0].condition.value == "SUCCESS"


def test_demo_holds_a_cluster_a_task_definition_and_a_service() -> None:
    docs = parse_text((EXAMPLES / "demo.yaml").read_text(), "demo.yaml")
    assert [d.kind for d in docs] == [Kind.CLUSTER, Kind.TASK_DEFINITION, Kind.SERVICE]


def test_registered_form_round_trips_through_describe_json() -> None:
    (spec,) = task_definitions(EXAMPLES / "webserver.yaml")
    at = datetime(2026, 11, 25, 17, 0, 0, 500000, tzinfo=UTC)
    td = register(
        spec,
        arn=task_definition_arn("us-east-1", "123456789012", spec.family, 3),
        revision=3,
        registered_at=at,
    )
    shown = to_json(td)
    assert shown["taskDefinitionArn"] == "arn:aws:ecs:us-east-1:123456789012:task-definition/webserver:3"
    assert (shown["revision"], shown["status"], shown["registeredAt"]) == (3, "ACTIVE", at.timestamp())
    assert shown["compatibilities"] == ["EC2", "EXTERNAL", "FARGATE"]
    assert {a["name"] for a in shown["requiresAttributes"]} == {
        "ecs.capability.container-health-check",
        "ecs.capability.task-eni",
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "ecs.capability.secrets.ssm.environment-variables",
    }
    assert "tags" not in shown
    back, decoder = from_json(json.loads(json.dumps(shown)))
    assert decoder.problems == []
    assert back == td
    assert spec_of(back, spec.tags) == spec


def test_bridge_definition_is_not_fargate_compatible() -> None:
    (spec,) = task_definitions(EXAMPLES / "xray-sidecar.yaml")
    td = register(spec, arn="arn", revision=1, registered_at=datetime.now(UTC))
    assert td.compatibilities == (Compatibility.EC2, Compatibility.EXTERNAL)
