"""The CLI's "did you mean", resource words and task id prefixes, from what a user types."""

from __future__ import annotations

import argparse

import pytest

from minecs.cli import build_parser
from minecs.cli.hints import nearest, problem_line
from minecs.cli.kinds import Resource, match_prefix, resource
from minecs.errors import FieldProblem


def test_a_mistyped_subcommand_gets_the_nearest_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["gte", "services"])
    assert exited.value.code == 2
    assert "invalid choice: 'gte'" in capsys.readouterr().err.replace("\n", " ")


def test_the_hint_names_the_nearest_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["descrbe", "svc", "x"])
    assert "did you mean 'describe'?" in capsys.readouterr().err


def test_a_word_far_from_every_choice_gets_no_guess() -> None:
    assert nearest("zzzzqqq", ["get", "describe"]) is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("svc", Resource("service", None)),
        ("services", Resource("service", None)),
        ("Service", Resource("service", None)),
        ("td", Resource("taskdef", None)),
        ("task-definitions", Resource("taskdef", None)),
        ("tasks", Resource("task", None)),
        ("svc/demo-web", Resource("service", "demo-web")),
        ("td/demo-web:3", Resource("taskdef", "demo-web:3")),
        ("ci", Resource("instance", None)),
    ],
)
def test_kinds_are_taken_as_kubectl_takes_them(word: str, expected: Resource) -> None:
    assert resource(word) == expected


def test_an_unknown_kind_is_refused_with_the_nearest() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="did you mean 'services'"):
        resource("servics")


def test_a_unique_prefix_names_its_task_and_an_ambiguous_one_says_which() -> None:
    ids = ["a978ed1608cf659e6b8ea7f03d798ea0", "a957509e3f2b3fe4583eb7083c7f1fd5", "0c8e" + "0" * 28]
    assert match_prefix("a97", ids) == ids[0]
    assert match_prefix("0C8", ids) == ids[2]
    with pytest.raises(LookupError, match="'a9' is ambiguous: 2 tasks match"):
        match_prefix("a9", ids)
    with pytest.raises(LookupError, match="no task id starts with 'ff'"):
        match_prefix("ff", ids)


def test_an_unknown_member_gets_the_nearest_name_and_keeps_botocores_words() -> None:
    message = 'Unknown parameter in containerDefinitions[0]: "imag", must be one of: name, image, memory'
    line = problem_line(FieldProblem("containerDefinitions[0].imag", message, "ClientException", "td.json"))
    assert (
        'Unknown parameter in containerDefinitions[0]: "imag" (did you mean "image"?), must be one of:'
        in line
    )
