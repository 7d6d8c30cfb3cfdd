"""dependsOn, links and volumesFrom: references, conditions, cycles, and the shared edge list."""

from __future__ import annotations

import pytest

from minecs.validation.graph import CREATE, Edge, edges, link_target
from tests.taskdefs import container, problems, taskdef, valid

CE = "ClientException"


def dep(name: str, condition: str) -> dict[str, str]:
    return {"containerName": name, "condition": condition}


@pytest.mark.parametrize("condition", ["START", "COMPLETE", "SUCCESS", "HEALTHY"])
def test_every_condition_on_a_fitting_dependency_is_valid(condition: str) -> None:
    db = container(
        "db", essential=condition in ("START", "HEALTHY"), healthCheck={"command": ["CMD", "true"]}
    )
    valid(taskdef(db, container("app", dependsOn=[dep("db", condition)])))


def test_unknown_dependency_uses_the_exact_ecs_message() -> None:
    assert problems(taskdef(container("app", dependsOn=[dep("db", "START")]))) == [
        (
            CE,
            "containerDefinitions[0].dependsOn[0].containerName",
            "Cannot depend on container + 'db' because it does not exist",
        )
    ]


@pytest.mark.parametrize("condition", ["SUCCESS", "COMPLETE"])
def test_success_or_complete_on_an_essential_dependency(condition: str) -> None:
    doc = taskdef(container("init"), container("app", dependsOn=[dep("init", condition)]))
    assert problems(doc) == [
        (
            CE,
            "containerDefinitions[1].dependsOn[0].condition",
            "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container",
        )
    ]


def test_healthy_on_a_container_without_a_health_check_registers_as_in_ecs() -> None:
    """ECS refuses it only at run time (its agent stops the task); so does minecs's agent."""
    doc = taskdef(container("db"), container("app", dependsOn=[dep("db", "HEALTHY")]))
    assert problems(doc) == []


def test_condition_outside_the_four() -> None:
    found = problems(taskdef(container("db"), container("app", dependsOn=[dep("db", "RUNNING")])))
    assert found == [
        (
            CE,
            "containerDefinitions[1].dependsOn[0].condition",
            "Value 'RUNNING' at 'containerDefinitions[1].dependsOn[0].condition' failed to satisfy constraint: "
            "Member must satisfy enum value set: [START, COMPLETE, SUCCESS, HEALTHY]",
        )
    ]


def test_links_rules() -> None:
    valid(taskdef(container("db"), container("app", links=["db:database"])))
    found = problems(taskdef(container("db"), container("app", links=["cache", "db:a:b"])))
    assert found == [
        (CE, "containerDefinitions[1].links[0]", "could not find container for link cache"),
        (
            CE,
            "containerDefinitions[1].links[1]",
            "invalid link format: 'db:a:b' (use 'name' or 'name:alias')",
        ),
    ]
    for mode in ("host", "none"):
        assert problems(taskdef(container("db"), container("app", links=["db"]), networkMode=mode)) == [
            (CE, "containerDefinitions[1].links[0]", f"Links are not supported when networkMode={mode}.")
        ]


def test_volumes_from_names_an_existing_container() -> None:
    valid(
        taskdef(
            container("data", essential=False),
            container("app", volumesFrom=[{"sourceContainer": "data", "readOnly": True}]),
        )
    )
    assert problems(taskdef(container("app", volumesFrom=[{"sourceContainer": "data"}]))) == [
        (
            CE,
            "containerDefinitions[0].volumesFrom[0].sourceContainer",
            "could not find volume source container with name data",
        )
    ]


def test_link_only_cycle_uses_the_ecs_message() -> None:
    doc = taskdef(container("a", links=["b"]), container("b", links=["a"]))
    assert problems(doc) == [
        (CE, "containerDefinitions", "Container links should not have a cycle: a -> b -> a")
    ]


def test_mixed_cycle_is_named() -> None:
    doc = taskdef(
        container("a", dependsOn=[dep("b", "START")]),
        container("b", volumesFrom=[{"sourceContainer": "c"}]),
        container("c", links=["a"]),
    )
    assert problems(doc) == [
        (CE, "containerDefinitions", "Container dependencies should not have a cycle: a -> b -> c -> a")
    ]


def test_self_dependency_is_a_cycle() -> None:
    assert problems(taskdef(container("a", dependsOn=[dep("a", "START")]))) == [
        (CE, "containerDefinitions", "Container dependencies should not have a cycle: a -> a")
    ]


def test_diamond_is_not_a_cycle() -> None:
    valid(
        taskdef(
            container("base"),
            container("left", dependsOn=[dep("base", "START")]),
            container("right", links=["base"]),
            container("top", dependsOn=[dep("left", "START"), dep("right", "START")]),
        )
    )


def test_edges_include_implicit_dependencies() -> None:
    spec = valid(
        taskdef(
            container("data", essential=False),
            container("db"),
            container(
                "app",
                links=["db:database"],
                volumesFrom=[{"sourceContainer": "data"}],
                dependsOn=[dep("db", "START")],
            ),
        )
    )
    assert edges(spec) == [
        Edge("app", "db", "START", "dependsOn"),
        Edge("app", "db", "START", "links"),
        Edge("app", "data", CREATE, "volumesFrom"),
    ]


def test_link_target() -> None:
    assert link_target("db") == "db"
    assert link_target("db:alias") == "db"
    assert link_target(":alias") is None
    assert link_target("a:b:c") is None
