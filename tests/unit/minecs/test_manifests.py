"""One loader for every form: bare register JSON, describe output, and minecs.dev/v1 manifests."""

from __future__ import annotations

import json

import pytest

from minecs.errors import ValidationError
from minecs.manifests import Kind, parse_document, parse_text
from minecs.model.service import ServiceSpec
from minecs.model.taskdef import TaskDefinitionSpec
from tests.taskdefs import container, taskdef

REGISTERED = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/web:4",
    "revision": 4,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "ecs.capability.container-ordering"}],
    "compatibilities": ["EC2"],
    "registeredAt": 1732540000.5,
    "registeredBy": "arn:aws:iam::1:root",
    "deregisteredAt": 1732540001,
}


def messages(error: ValidationError) -> list[tuple[str, str, str]]:
    return [(p.source, p.path, p.message) for p in error.problems]


def test_bare_register_body() -> None:
    doc = parse_document(taskdef(), "td.json:doc#1")
    assert (doc.kind, doc.name, doc.source) == (Kind.TASK_DEFINITION, "web", "td.json:doc#1")
    assert isinstance(doc.body, TaskDefinitionSpec)


def test_describe_output_with_wrapper_drops_read_only_members_and_keeps_tags() -> None:
    wrapped = {"taskDefinition": {**taskdef(), **REGISTERED}, "tags": [{"key": "a", "value": "b"}]}
    doc = parse_document(wrapped, "d")
    assert isinstance(doc.body, TaskDefinitionSpec)
    assert doc.body.tags[0].key == "a"
    assert doc.body == parse_document({**taskdef(), "tags": [{"key": "a", "value": "b"}]}, "d").body


def test_describe_output_without_wrapper() -> None:
    assert parse_document({**taskdef(), **REGISTERED}, "d").body == parse_document(taskdef(), "d").body


def test_describe_wrapper_refuses_other_members() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_document({"taskDefinition": taskdef(), "ResponseMetadata": {}}, "d")
    assert messages(caught.value) == [
        (
            "d",
            "ResponseMetadata",
            'Unknown member "ResponseMetadata" beside taskDefinition; expected only tags.',
        )
    ]


MULTI = """
apiVersion: minecs.dev/v1
kind: Cluster
metadata: {name: edge}
spec: {}
---
---
apiVersion: minecs.dev/v1
kind: TaskDefinition
metadata:
  name: web
  labels: {tier: front}
spec:
  containerDefinitions:
    - {name: app, image: minecs/busybox:latest, memory: 64}
---
apiVersion: minecs.dev/v1
kind: Service
metadata: {name: web}
spec: {taskDefinition: web, desiredCount: 1, cluster: edge}
"""


def test_multi_document_manifest_fills_names_from_metadata() -> None:
    docs = parse_text(MULTI, "app.yaml")
    assert [(d.kind, d.name, d.source) for d in docs] == [
        (Kind.CLUSTER, "edge", "app.yaml:doc#1"),
        (Kind.TASK_DEFINITION, "web", "app.yaml:doc#3"),
        (Kind.SERVICE, "web", "app.yaml:doc#4"),
    ]
    assert docs[1].labels == {"tier": "front"}
    assert isinstance(docs[1].body, TaskDefinitionSpec)
    assert docs[1].body.family == "web"
    assert isinstance(docs[2].body, ServiceSpec)
    assert docs[2].body.service_name == "web"


def test_problems_from_every_document_carry_source_and_spec_path() -> None:
    text = MULTI.replace("memory: 64", "memory: 64, essential: maybe").replace(
        "desiredCount: 1", "desiredCount: -1"
    )
    with pytest.raises(ValidationError) as caught:
        parse_text(text, "app.yaml")
    assert messages(caught.value) == [
        (
            "app.yaml:doc#3",
            "spec.containerDefinitions[0].essential",
            "Invalid type for parameter containerDefinitions[0].essential, value: maybe, type: <class 'str'>, valid types: <class 'bool'>",
        ),
        (
            "app.yaml:doc#4",
            "spec.desiredCount",
            "desiredCount must be between 0 and 5000 (ECS's tasks per service quota).",
        ),
    ]


def test_metadata_name_and_spec_name_must_agree() -> None:
    text = "apiVersion: minecs.dev/v1\nkind: TaskDefinition\nmetadata: {name: web}\nspec: {family: api, containerDefinitions: []}\n"
    with pytest.raises(ValidationError) as caught:
        parse_text(text, "x.yaml")
    assert messages(caught.value) == [
        ("x.yaml:doc#1", "spec.family", "spec.family 'api' differs from metadata.name 'web'")
    ]


def test_envelope_problems_are_all_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_document(
            {
                "apiVersion": "minecs.dev/v1",
                "kind": "Service",
                "metadata": {"labels": {"a": 1}, "uid": "x"},
                "status": {},
            },
            "s",
        )
    assert messages(caught.value) == [
        ("s", "status", 'Unknown manifest member "status", must be one of: apiVersion, kind, metadata, spec'),
        ("s", "metadata.uid", 'Unknown metadata member "uid", must be one of: name, labels, annotations'),
        ("s", "metadata.name", "metadata.name must be a non-empty string"),
        ("s", "metadata.labels", "metadata.labels must map names to strings"),
        ("s", "spec", "spec must be a mapping holding the ECS request body"),
    ]


@pytest.mark.parametrize(
    ("text", "name"), [("a: [", "bad.yaml"), ("{", "bad.json"), ("key: *nope", "bad.yml")]
)
def test_syntax_errors_are_validation_errors(text: str, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_text(text, name)
    (problem,) = caught.value.problems
    assert problem.source == name
    assert problem.message.startswith("not valid JSON:" if name.endswith(".json") else "not valid YAML:")


def test_a_document_that_is_not_a_mapping() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_text("- a\n- b\n", "list.yaml")
    assert messages(caught.value) == [
        ("list.yaml:doc#1", "", "a document must be a mapping (JSON object), not list")
    ]


def test_json_file_is_read_as_json() -> None:
    docs = parse_text(json.dumps(taskdef(container("x"))), "td.json")
    assert [d.source for d in docs] == ["td.json:doc#1"]
