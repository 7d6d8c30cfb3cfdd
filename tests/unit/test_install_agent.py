"""scripts/install-agent in --dry-run mode: what it would do, that it writes nothing, and idempotence."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "install-agent"


def dry_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MINECS_PREFIX": str(tmp_path / "opt"),
        "MINECS_ETC": str(tmp_path / "etc"),
        "MINECS_UNIT_DIR": str(tmp_path / "units"),
        "MINECS_STATE": str(tmp_path / "state"),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args, "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_dry_run_says_everything_it_would_do_and_writes_nothing(tmp_path: Path) -> None:
    done = dry_run(tmp_path, "--controller", "http://controller.example:7450", "--token", "mcr-secret")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"would run: python3 -m venv {tmp_path}/opt/venv" in lines
    assert f"would run: {tmp_path}/opt/venv/bin/pip install {REPO_ROOT}" in lines
    assert f"would write: {tmp_path}/etc/agent.env (mode 0600)" in lines
    assert "    MINECS_ENDPOINT=http://controller.example:7450" in lines
    assert "    MINECS_TOKEN=(hidden)" in lines  # the token is not printed
    assert "mcr-secret" not in done.stdout
    assert f"would write: {tmp_path}/units/minecs-agent.service (mode 0644)" in lines
    assert lines[-3:-1] == [
        "would run: systemctl daemon-reload",
        "would run: systemctl enable --now minecs-agent.service",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_second_run_leaves_what_is_already_right(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "agent.env").write_text(
        "MINECS_ENDPOINT=http://c:7450\nMINECS_TOKEN=mcr-1\nMINECS_CLUSTER=edge\n"
    )
    (tmp_path / "units").mkdir()
    (tmp_path / "units" / "minecs-agent.service").write_text(
        (REPO_ROOT / "systemd" / "minecs-agent.service").read_text()
    )
    done = dry_run(tmp_path, "--controller", "http://c:7450", "--token", "mcr-1", "--cluster", "edge")
    assert done.returncode == 0, done.stderr
    assert f"unchanged: {tmp_path}/etc/agent.env" in done.stdout
    assert f"unchanged: {tmp_path}/units/minecs-agent.service" in done.stdout


def test_missing_controller_or_token_is_a_usage_error(tmp_path: Path) -> None:
    assert dry_run(tmp_path, "--token", "t").returncode == 2
    refused = dry_run(tmp_path, "--controller", "http://c:7450")
    assert (refused.returncode, refused.stderr.strip()) == (
        2,
        "install-agent: --token is required for a host that has never registered",
    )
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "instance.json").write_text("{}")  # registered before: the token is optional
    assert dry_run(tmp_path, "--controller", "http://c:7450").returncode == 0
