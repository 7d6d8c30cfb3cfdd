"""The CLI entry point: version, usage errors, and clean failures for bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from minecs import cli


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"minecs {cli.package_version()}"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_bad_settings_exit_1_with_the_member_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINECS_DOCKER_WORKERS", "lots")
    assert cli.main(["smoke"]) == 1
    assert "MINECS_DOCKER_WORKERS: 'lots' is not a valid int" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "minecs.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("minecs ")


def _complete(script: str, *words: str) -> list[str]:
    """What bash offers after typing ``minecs WORDS...`` (the last word is the one being completed)."""
    line = " ".join(f"'{w}'" for w in ("minecs", *words))
    program = (
        f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}; _minecs; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.split()


def test_bash_completion_offers_subcommands_options_and_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert script.rstrip().endswith("complete -F _minecs minecs")
    assert _complete(script, "de") == ["delete", "describe"]
    assert _complete(script, "get", "se") == ["service", "services"]
    assert "--follow" in _complete(script, "logs", "--f")
    assert _complete(script, "describe", "ta") == ["task", "taskdef", "taskdefs", "tasks"]
