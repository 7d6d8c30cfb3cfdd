"""Property: any document, random or mutated from a valid one, validates or raises ValidationError.

Nothing else may escape the loader: not a KeyError, not a TypeError, not a RecursionError. That is
what keeps the API at a 4xx for every bad body. ``make test`` runs at least 2,000 examples.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minecs.errors import ValidationError
from minecs.manifests import parse_document, parse_text
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "manifests" / "examples"
SEEDS: list[Any] = [
    doc
    for path in sorted(EXAMPLES.rglob("*"))
    if path.suffix in (".yaml", ".json")
    for doc in yaml.safe_load_all(path.read_text())
    if doc is not None
]
MEMBER_NAMES = [
    "family",
    "containerDefinitions",
    "name",
    "image",
    "memory",
    "dependsOn",
    "containerName",
    "condition",
    "portMappings",
    "containerPort",
    "hostPort",
    "links",
    "volumesFrom",
    "essential",
    "healthCheck",
    "spec",
    "kind",
    "apiVersion",
    "metadata",
    "networkMode",
    "cpu",
    "volumes",
    "taskDefinition",
    "desiredCount",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "START",
            "HEALTHY",
            "SUCCESS",
            "COMPLETE",
            "awsvpc",
            "host",
            "none",
            "bridge",
            "1 vCPU",
            "2 GB",
            "minecs.dev/v1",
            "TaskDefinition",
            "Service",
            "Cluster",
            "app",
            "db",
        ]
    ),
)
keys = st.one_of(st.sampled_from(MEMBER_NAMES), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            doc = draw(json_values)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(keys)] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return doc


def _load_or_reject(document: Any) -> None:
    try:
        parse_document(document, "prop")
    except ValidationError as exc:
        error = exc
    else:
        return
    assert error.problems
    assert all(
        p.code in ("ClientException", "InvalidParameterException", "UnsupportedFeatureException")
        for p in error.problems
    )


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_valid_documents_validate_or_raise_our_error(document: Any) -> None:
    _load_or_reject(document)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_documents_validate_or_raise_our_error(document: Any) -> None:
    _load_or_reject(document)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=200), st.builds(json.dumps, json_values), st.builds(yaml.safe_dump, json_values)
    ),
    st.sampled_from(["x.yaml", "x.json"]),
)
def test_random_text_validates_or_raises_our_error(text: str, filename: str) -> None:
    try:
        parse_text(text, filename)
    except ValidationError as exc:
        error = exc
    else:
        return
    assert error.problems


def test_the_seeds_are_the_examples() -> None:
    assert len(SEEDS) >= 9
    assert Path(EXAMPLES).is_dir()
