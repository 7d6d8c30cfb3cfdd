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
