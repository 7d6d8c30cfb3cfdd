"""``minecs exec``'s argv split: the command starts at the first word after TASK that is no exec option."""

from __future__ import annotations

import argparse

import pytest

from minecs import cli
from minecs.cli.execute import EXEC_OPTIONS, split_command


@pytest.mark.parametrize(
    ("words", "parsed", "command"),
    [
        (["exec", "T", "sh", "-c", "echo hi"], ["exec", "T"], ["sh", "-c", "echo hi"]),
        (["exec", "T", "-c", "web", "sh"], ["exec", "T", "-c", "web"], ["sh"]),
        (["exec", "-c", "web", "T", "ls", "-l"], ["exec", "-c", "web", "T"], ["ls", "-l"]),
        (["exec", "T", "-c", "web", "--", "sh", "-c", "x"], ["exec", "T", "-c", "web"], ["sh", "-c", "x"]),
        (["exec", "T", "--", "--help"], ["exec", "T"], ["--help"]),
        (["exec", "T", "--container=web", "-t", "top"], ["exec", "T", "--container=web", "-t"], ["top"]),
        (["exec", "T", "-cweb", "--no-tty", "id"], ["exec", "T", "-cweb", "--no-tty"], ["id"]),
        (["exec", "--endpoint", "http://e", "T", "id"], ["exec", "--endpoint", "http://e", "T"], ["id"]),
        (["--config", "exec", "exec", "T", "id"], ["--config", "exec", "exec", "T"], ["id"]),
        (["exec", "-c", "web", "--", "T", "id"], ["exec", "-c", "web", "T"], ["id"]),
        (["exec", "T"], ["exec", "T"], []),
        (["exec", "--help"], ["exec", "--help"], []),
    ],
)
def test_the_command_starts_at_the_first_word_after_the_task_that_is_no_exec_option(
    words: list[str], parsed: list[str], command: list[str]
) -> None:
    assert split_command(words) == (parsed, command)


def test_words_of_other_commands_are_left_as_they_are() -> None:
    assert split_command(["logs", "exec", "-f"]) == (["logs", "exec", "-f"], None)


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found: argparse.ArgumentParser = action.choices[name]
    return found


def test_the_split_knows_every_option_of_exec_and_whether_it_takes_a_value() -> None:
    options = {
        option: action.nargs != 0
        for action in _subparser(cli.build_parser(), "exec")._actions
        for option in action.option_strings
    }
    assert options == EXEC_OPTIONS


def test_a_double_dash_outside_exec_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["get", "tasks", "--", "x"])
    assert exited.value.code == 2
    assert "'--' comes only before the command of 'minecs exec'" in capsys.readouterr().err
