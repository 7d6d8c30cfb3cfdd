"""The one settings tree: every member is in the operations guide, and the engine's clocks travel
from the file and the environment through ``minecs agent``'s wiring to the engine that uses them."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.daemon import AgentStart
from agent.provision.resources import InstanceFacts
from agent.runtime.fake import FakeDriver
from agent.tasks.engine import Engine
from minecs import cli, settings
from minecs.cli import daemons
from minecs.errors import SettingsError
from minecs.settings import AgentSettings, DockerSettings, PullBehavior
from tests.conftest import REPO_ROOT

CLOCKS = ("cleanup_wait", "resync_interval", "dependency_wait_timeout")


def members(cls: type[Any], prefix: str = "") -> Iterator[str]:
    """Every leaf of the tree as its file key (``agent.engine.cleanup_wait``)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            yield from members(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


@pytest.mark.parametrize("key", list(members(settings.Settings)))
def test_every_setting_is_listed_in_the_operations_guide(key: str) -> None:
    guide = (REPO_ROOT / "docs" / "operations.md").read_text()
    variable = settings.ENV_PREFIX + key.replace(".", "_").upper()
    assert f"| `{key}` | `{variable}` |" in guide


def agent_engine_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *argv: str, flags: tuple[str, ...] = ()
) -> Engine:
    """Run ``minecs agent`` with the agent itself replaced; the engine built from what it was given."""
    given: list[tuple[AgentSettings, DockerSettings, AgentStart]] = []

    async def run_agent(
        section: AgentSettings, docker: DockerSettings, start: AgentStart, stop: object
    ) -> None:
        given.append((section, docker, start))

    monkeypatch.setattr(daemons, "run_agent", run_agent)
    assert cli.main([*argv, "agent", "--data-dir", str(tmp_path), *flags]) == 0
    ((section, docker, start),) = given
    assert start.data_dir == tmp_path
    return Engine(FakeDriver(), section.engine, InstanceFacts(publish_address=docker.publish_address))


@pytest.mark.parametrize("clock", CLOCKS)
def test_an_engine_clock_is_set_from_the_file(
    clock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "minecs.yaml"
    config.write_text(f"agent:\n  engine:\n    {clock}: 7.5\n")
    engine = agent_engine_settings(monkeypatch, tmp_path, "--config", str(config))
    assert getattr(engine.settings, clock) == 7.5
    others = [name for name in CLOCKS if name != clock]
    assert all(getattr(engine.settings, n) == getattr(settings.EngineSettings(), n) for n in others)


@pytest.mark.parametrize("clock", CLOCKS)
def test_an_engine_clock_is_set_from_the_environment_over_the_file(
    clock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "minecs.yaml"
    config.write_text(f"agent:\n  engine:\n    {clock}: 7.5\n")
    monkeypatch.setenv(f"MINECS_AGENT_ENGINE_{clock.upper()}", "2.25")
    engine = agent_engine_settings(monkeypatch, tmp_path, "--config", str(config))
    assert getattr(engine.settings, clock) == 2.25


def test_flags_override_the_settings_they_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINECS_AGENT_ENGINE_PULL_BEHAVIOR", "always")
    monkeypatch.setenv("MINECS_DOCKER_PUBLISH_ADDRESS", "10.0.0.1")
    from_env = agent_engine_settings(monkeypatch, tmp_path)
    assert (from_env.settings.pull_behavior, from_env.facts.publish_address) == (
        PullBehavior.ALWAYS,
        "10.0.0.1",
    )
    flags = ("--pull-behavior", "once", "--publish-address", "127.0.0.1")
    overridden = agent_engine_settings(monkeypatch, tmp_path, flags=flags)
    assert (overridden.settings.pull_behavior, overridden.facts.publish_address) == (
        PullBehavior.ONCE,
        "127.0.0.1",
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MINECS_AGENT_ENGINE_CLEANUP_WAIT": "-1"}, "agent.engine.cleanup_wait: -1.0 must be >= 0"),
        ({"MINECS_AGENT_ENGINE_RESYNC_INTERVAL": "0"}, "agent.engine.resync_interval: 0.0 must be > 0"),
        ({"MINECS_AGENT_ENGINE_PULL_BEHAVIOR": "never"}, "PULL_BEHAVIOR: 'never' is not one of default,"),
        (
            {"MINECS_AGENT_ENGINE_PROVISION_PORT_RANGE": "9,1"},
            "provision.port_range: [9, 1] is not low..high",
        ),
        ({"MINECS_AGENT_ENGINE_PROVISION_PORT_RANGE": "9"}, "PORT_RANGE: '9' is not a valid tuple"),
        ({"MINECS_AGENT_METADATA_PORT": "70000"}, "agent.metadata_port: 70000 is not a port"),
    ],
)
def test_bad_agent_values_are_loud(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings.load(environ=environ)
    assert message in raised.value.message


def test_int_lists_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "minecs.yaml"
    config.write_text("agent: {engine: {provision: {port_range: [45000, 45100], reserved_ports: [8080]}}}\n")
    provision = settings.load(config, environ={}).agent.engine.provision
    assert (provision.port_range, provision.reserved_ports) == ((45000, 45100), (8080,))
    variable = {"MINECS_AGENT_ENGINE_PROVISION_RESERVED_PORTS": "8080, 9090"}
    assert settings.load(config, environ=variable).agent.engine.provision.reserved_ports == (8080, 9090)
