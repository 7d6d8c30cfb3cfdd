"""The error tree: ECS codes travel as data, and validation keeps every problem."""

from __future__ import annotations

import pytest

from minecs.errors import (
    ClientError,
    EcsError,
    FieldProblem,
    InvalidParameterError,
    MinecsError,
    NotFoundError,
    ValidationError,
)


def test_ecs_errors_carry_code_and_status() -> None:
    assert (ClientError("x").code, ClientError("x").status) == ("ClientException", 400)
    assert InvalidParameterError("x").code == "InvalidParameterException"
    assert NotFoundError("no", code="ClusterNotFoundException").code == "ClusterNotFoundException"
    assert isinstance(NotFoundError("no"), EcsError)
    assert isinstance(NotFoundError("no"), MinecsError)


def test_validation_error_keeps_every_problem_and_names_the_first_field() -> None:
    problems = [
        FieldProblem("containerDefinitions[1].dependsOn[0].containerName", "no such container"),
        FieldProblem("memory", "must be at least 6", code="InvalidParameterException"),
    ]
    error = ValidationError(problems)
    assert error.problems == tuple(problems)
    assert error.code == "ClientException"
    assert error.message == (
        "containerDefinitions[1].dependsOn[0].containerName: no such container (and 1 more)"
    )


def test_validation_error_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ValidationError([])


def test_field_problem_renders_source_path_message_and_code() -> None:
    problem = FieldProblem("family", "required", source="web.yaml:doc#2")
    assert problem.render() == "web.yaml:doc#2: family: required (ClientException)"
