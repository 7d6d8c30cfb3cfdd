"""CreateService and CreateCluster bodies: what a minecs host accepts and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from minecs.errors import ValidationError
from minecs.model.service import SchedulingStrategy
from minecs.validation.service import parse_cluster, parse_service

IPE = "InvalidParameterException"
CE = "ClientException"
UFE = "UnsupportedFeatureException"


def service_problems(**members: Any) -> list[tuple[str, str, str]]:
    body = {"serviceName": "web", "taskDefinition": "web:3", "desiredCount": 2, **members}
    body = {k: v for k, v in body.items() if v is not None}
    try:
        parse_service(body)
    except ValidationError as exc:
        return [(p.code, p.path, p.message) for p in exc.problems]
    return []


def test_a_typical_service_is_valid_and_keeps_cloud_only_members() -> None:
    spec = parse_service(
        {
            "serviceName": "web",
            "cluster": "default",
            "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
            "desiredCount": 4,
            "deploymentConfiguration": {
                "maximumPercent": 150,
                "minimumHealthyPercent": 50,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            },
            "placementStrategy": [
                {"type": "spread", "field": "instanceId"},
                {"type": "binpack", "field": "memory"},
            ],
            "placementConstraints": [
                {"type": "distinctInstance"},
                {"type": "memberOf", "expression": "attribute:ecs.os-type == linux"},
            ],
            "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}],
            "tags": [{"key": "team", "value": "a"}],
        }
    )
    assert spec.desired_count == 4
    assert spec.scheduling_strategy is SchedulingStrategy.REPLICA
    assert spec.load_balancers[0]["containerPort"] == 80


@pytest.mark.parametrize("ref", ["web", "web:1", "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12"])
def test_task_definition_references(ref: str) -> None:
    assert service_problems(taskDefinition=ref) == []


@pytest.mark.parametrize("ref", ["web:0", "web:x", "a b", "web:1:2"])
def test_bad_task_definition_references(ref: str) -> None:
    assert service_problems(taskDefinition=ref) == [
        (
            IPE,
            "taskDefinition",
            f"Invalid taskDefinition '{ref}': use family, family:revision, or a task definition ARN.",
        )
    ]


def test_desired_count_rules() -> None:
    assert service_problems(desiredCount=None) == [
        (IPE, "desiredCount", "desiredCount is required when schedulingStrategy is REPLICA.")
    ]
    bounded = "desiredCount must be between 0 and 5000 (ECS's tasks per service quota)."
    assert service_problems(desiredCount=-1) == [(IPE, "desiredCount", bounded)]
    assert service_problems(desiredCount=1_000_000_000) == [(IPE, "desiredCount", bounded)]
    assert service_problems(desiredCount=5000) == []
    assert service_problems(desiredCount=0) == []
    assert service_problems(desiredCount=None, schedulingStrategy="DAEMON") == []
    assert service_problems(schedulingStrategy="DAEMON", placementStrategy=[{"type": "random"}]) == [
        (
            IPE,
            "desiredCount",
            "The daemon scheduling strategy does not support a desired count for services.",
        ),
        (
            IPE,
            "placementStrategy",
            "Placement strategies are not supported with the DAEMON scheduling strategy.",
        ),
    ]


def test_deployment_configuration_rules() -> None:
    assert service_problems(deploymentConfiguration={"maximumPercent": 99, "minimumHealthyPercent": 101}) == [
        (
            IPE,
            "deploymentConfiguration.minimumHealthyPercent",
            "minimumHealthyPercent must be between 0 and 100.",
        ),
        (
            IPE,
            "deploymentConfiguration.maximumPercent",
            "maximumPercent must be at least 100 for a REPLICA service.",
        ),
    ]
    assert service_problems(deploymentConfiguration={"strategy": "BLUE_GREEN"}) == [
        (
            UFE,
            "deploymentConfiguration.strategy",
            "The BLUE_GREEN deployment strategy is not available on a minecs host; use ROLLING.",
        )
    ]
    assert service_problems(deploymentController={"type": "EXTERNAL"}) == [
        (
            UFE,
            "deploymentController.type",
            "The EXTERNAL deployment controller is not available on a minecs host; use ECS.",
        )
    ]
    assert service_problems(deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True}}) == [
        (
            CE,
            "deploymentConfiguration.deploymentCircuitBreaker.rollback",
            'Missing required parameter in deploymentConfiguration.deploymentCircuitBreaker: "rollback"',
        )
    ]


def test_placement_rules() -> None:
    found = service_problems(
        placementStrategy=[{"type": "binpack", "field": "disk"}, {"type": "spread"}, {}],
        placementConstraints=[{"type": "memberOf"}, {"type": "distinctInstance", "expression": "x"}, {}],
    )
    assert found == [
        (IPE, "placementStrategy[0].field", "The binpack placement strategy needs field cpu or memory."),
        (IPE, "placementStrategy[1].field", "The spread placement strategy needs a field, e.g. instanceId."),
        (CE, "placementStrategy[2].type", "A placement strategy needs a type: random, spread or binpack."),
        (IPE, "placementConstraints[0].expression", "A memberOf placement constraint needs an expression."),
        (
            IPE,
            "placementConstraints[1].expression",
            "A distinctInstance placement constraint takes no expression.",
        ),
        (
            CE,
            "placementConstraints[2].type",
            "A placement constraint needs a type: distinctInstance or memberOf.",
        ),
    ]
    assert service_problems(placementStrategy=[{"type": "random"}] * 6) == [
        (CE, "placementStrategy", "At most 5 placement strategies are allowed.")
    ]


def test_service_name_and_task_definition_required() -> None:
    assert service_problems(serviceName="web app", taskDefinition="") == [
        (
            CE,
            "serviceName",
            "Invalid service name 'web app': up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.",
        ),
        (
            CE,
            "taskDefinition",
            "taskDefinition is required: a family, family:revision, or task definition ARN.",
        ),
    ]


def test_clusters() -> None:
    spec = parse_cluster(
        {"clusterName": "edge", "settings": [{"name": "containerInsights", "value": "enhanced"}]}
    )
    assert spec.cluster_name == "edge"
    with pytest.raises(ValidationError) as caught:
        parse_cluster(
            {
                "clusterName": "edge one",
                "settings": [{"name": "containerInsights", "value": "on"}, {"name": "x"}],
            }
        )
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (
            "clusterName",
            "Invalid cluster name 'edge one': up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.",
        ),
        ("settings[0].value", "containerInsights must be one of enabled, disabled, enhanced."),
        ("settings[1].name", "Unknown cluster setting 'x'; the only one is containerInsights."),
    ]
