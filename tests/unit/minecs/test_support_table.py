"""The task definition support table: complete against the model, in step with its document, and
every "refused" or "accepted" claim that carries a sample proven against validation."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from minecs.errors import ValidationError
from minecs.model.codec import encode, join
from minecs.model.support import (
    REGENERATE,
    TABLE,
    Support,
    ancestors,
    covering,
    member_paths,
    render_markdown,
)
from minecs.model.taskdef import TaskDefinition
from minecs.validation import parse_task_definition
from tests.conftest import REPO_ROOT
from tests.taskdefs import container, taskdef

DOC = REPO_ROOT / "docs" / "task-definition-support.md"

# What a struct needs besides the sampled member to be valid, when the sample has to create it.
SEEDS: dict[str, dict[str, Any]] = {
    "volumes": {"name": "data"},
    "volumes[].efsVolumeConfiguration": {"fileSystemId": "fs-12345678"},
    "containerDefinitions[].logConfiguration": {"logDriver": "json-file"},
}

REFUSED = sorted(path for path, entry in TABLE.items() if entry.support is Support.REFUSED)
ACCEPTED_SAMPLES = sorted(
    path for path, entry in TABLE.items() if entry.support is not Support.REFUSED and entry.sample is not None
)


def with_member(path: str, value: object) -> dict[str, Any]:
    """The minimal valid definition with the member at ``path`` set (the first item of each list)."""
    document = taskdef(container())
    *parents, last = path.split(".")
    node, walked = document, ""
    for part in parents:
        name = part.removesuffix("[]")
        walked = join(walked, name)
        if part.endswith("[]"):
            items = node.setdefault(name, [])
            if not items:
                items.append(copy.deepcopy(SEEDS.get(walked, {})))
            node, walked = items[0], walked + "[]"
        else:
            node = node.setdefault(name, copy.deepcopy(SEEDS.get(walked, {})))
    node[last] = copy.deepcopy(value)
    return document


def value_at(document: dict[str, Any], path: str) -> object:
    node: Any = document
    for part in path.split("."):
        node = node.get(part.removesuffix("[]"))
        if part.endswith("[]"):
            node = node[0]
    return node


def names_member(problem_path: str, member: str) -> bool:
    general = re.sub(r"\[\d+\]", "[]", problem_path)
    return general == member or general.startswith((member + ".", member + "["))


def test_the_walk_follows_the_codec_names_into_lists_and_structs() -> None:
    paths = member_paths()
    for path in (
        "cpu",
        "containerDefinitions",
        "containerDefinitions[].healthCheck.interval",
        "containerDefinitions[].portMappings[].hostPort",
        "containerDefinitions[].resourceRequirements[].sharingStrategy.nvidiaMps.maxComputePercent",
        "volumes[].efsVolumeConfiguration",
        "ephemeralStorage.sizeInGiB",
    ):
        assert path in paths
    assert len(paths) == len(set(paths))
    assert "registeredAt" not in member_paths(TaskDefinition), "internal fields are not members"


def test_ancestors_drop_the_list_marker() -> None:
    assert list(ancestors("a[].b[].c")) == ["a[].b", "a"]
    assert list(ancestors("cpu")) == []


def test_every_model_member_is_covered() -> None:
    missing = [path for path in member_paths() if covering(path) is None]
    assert missing == [], "add these members to minecs/model/supporttable.py"


def test_the_table_names_only_members_the_model_has() -> None:
    paths = set(member_paths())
    assert sorted(set(TABLE) - paths) == []


def test_no_row_sits_under_a_row_that_stands_for_its_whole_struct() -> None:
    redundant = [path for path in TABLE if any(p in TABLE and TABLE[p].whole for p in ancestors(path))]
    assert redundant == []


def test_the_document_is_the_rendered_table() -> None:
    assert DOC.read_text() == render_markdown(), (
        f"{DOC.relative_to(REPO_ROOT)} is out of date; regenerate it with:\n{REGENERATE}"
    )


def test_there_are_refused_members_and_each_carries_a_sample() -> None:
    assert REFUSED
    assert [path for path in REFUSED if TABLE[path].sample is None] == []


@pytest.mark.parametrize("path", REFUSED)
def test_a_refused_member_fails_registration_naming_it(path: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_task_definition(with_member(path, TABLE[path].sample))
    problems = [p.path for p in raised.value.problems]
    assert problems
    assert all(names_member(p, path) for p in problems), problems


@pytest.mark.parametrize("path", ACCEPTED_SAMPLES)
def test_an_accepted_member_registers_and_is_kept(path: str) -> None:
    document = with_member(path, TABLE[path].sample)
    spec = parse_task_definition(copy.deepcopy(document))
    assert value_at(encode(spec), path) == value_at(document, path)
