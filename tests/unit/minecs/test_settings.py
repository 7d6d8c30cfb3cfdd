"""Settings: defaults < file < MINECS_* environment, maps of sections (controller.efs.file_systems),
and loud errors that name the member."""

from __future__ import annotations

from pathlib import Path

import pytest

from minecs import settings
from minecs.errors import SettingsError
from minecs.settings import EfsAccessPoint, EfsFileSystem, EfsSettings
from tests.conftest import REPO_ROOT


def test_defaults() -> None:
    loaded = settings.load(environ={})
    assert loaded.log.level == "info"
    assert loaded.docker.publish_address == "0.0.0.0"
    assert loaded.docker.workers == 16


def test_file_then_environment_override(tmp_path: Path) -> None:
    config = tmp_path / "minecs.yaml"
    config.write_text("log: {level: debug}\ndocker: {publish_address: 127.0.0.1, workers: 4}\n")
    loaded = settings.load(config, environ={"MINECS_DOCKER_WORKERS": "8", "MINECS_DATA_DIR": str(tmp_path)})
    assert loaded.log.level == "debug"
    assert loaded.docker.publish_address == "127.0.0.1"
    assert loaded.docker.workers == 8
    assert loaded.data_dir == tmp_path


def test_controller_clocks_come_from_the_environment() -> None:
    loaded = settings.load(
        environ={"MINECS_CONTROLLER_HEALTHY_DELAY": "2", "MINECS_CONTROLLER_AGENT_TIMEOUT": "6"}
    )
    assert (loaded.controller.healthy_delay, loaded.controller.agent_timeout) == (2.0, 6.0)
    assert settings.load(environ={}).controller.healthy_delay == 40.0  # ECS's rule by default


def test_config_path_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("log:\n  format: json\n")
    assert settings.load(environ={"MINECS_CONFIG": str(config)}).log.format == "json"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MINECS_DOCKER_WORKERS": "many"}, "MINECS_DOCKER_WORKERS: 'many' is not a valid int"),
        ({"MINECS_DOCKER_WORKERS": "0"}, "docker.workers: 0 is not in 1..256"),
        ({"MINECS_LOG_LEVEL": "chatty"}, "log.level: 'chatty' is not one of"),
        ({"MINECS_LOG_FORMAT": "xml"}, "log.format: 'xml' is not one of"),
        ({"MINECS_CONTROLLER_AGENT_TIMEOUT": "0"}, "controller.agent_timeout: 0.0 must be > 0"),
    ],
)
def test_bad_environment_values_are_loud(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings.load(environ=environ)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dokker: {}\n", "unknown setting dokker"),
        ("docker: {wrkers: 2}\n", "unknown setting docker.wrkers"),
        ("docker: 3\n", "docker must be a mapping"),
        ("- a\n", "must hold a mapping"),
        ("a: [\n", "is not valid YAML"),
    ],
)
def test_bad_files_are_loud(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message):
        settings.load(config, environ={})


def test_missing_file_is_loud(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read settings file"):
        settings.load(tmp_path / "absent.yaml", environ={})


def test_the_setting_from_the_file_and_from_one_variable(tmp_path: Path) -> None:
    config = tmp_path / "minecs.yaml"
    config.write_text(
        "controller:\n  efs:\n    file_systems:\n      fs-1:\n        server: nfs.lan\n        export: /srv\n"
        "        nfs_version: 4.2\n        access_points: {fsap-1: {root: /app}}\n"
    )
    loaded = settings.load(config, environ={}).controller.efs
    assert loaded.file_systems["fs-1"] == EfsFileSystem(
        server="nfs.lan", export="/srv", nfs_version="4.2", access_points={"fsap-1": EfsAccessPoint("/app")}
    )
    variable = {"MINECS_CONTROLLER_EFS_FILE_SYSTEMS": '{"fs-2": {"server": "10.0.0.9", "port": 2050}}'}
    from_env = settings.load(config, environ=variable).controller.efs  # the variable replaces the map
    assert from_env.file_systems == {"fs-2": EfsFileSystem(server="10.0.0.9", port=2050)}
    assert settings.load(environ={}).controller.efs == EfsSettings()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"fs-1": {"export": "/x"}}', "controller.efs.file_systems.fs-1: an EFS file system needs a server"),
        (
            '{"fs-1": {"server": "h", "exports": "/x"}}',
            "unknown setting controller.efs.file_systems.fs-1.exports",
        ),
        ('{"fs-1": {"server": "h", "export": "x"}}', "export: 'x' is not an absolute path"),
        ('{"fs-1": {"server": "h", "port": 70000}}', "port: 70000 is not a port"),
        ('{"fs-1": "h"}', "controller.efs.file_systems.fs-1 must be a mapping"),
        ("[fs-1]", "controller.efs.file_systems must be a mapping of names to sections"),
        ("{fs-1: [", "not valid YAML or JSON"),
        (
            '{"fs-1": {"server": "h", "access_points": {"fsap-1": {"root": "app"}}}}',
            "controller.efs.file_systems.fs-1.access_points.fsap-1: root: 'app' is not an absolute path",
        ),
    ],
)
def test_bad_mappings_are_loud_and_name_the_member(value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings.load(environ={"MINECS_CONTROLLER_EFS_FILE_SYSTEMS": value})
    assert raised.value.message.startswith("MINECS_CONTROLLER_EFS_FILE_SYSTEMS: ")
    assert message in raised.value.message


def test_the_efs_example_in_the_operations_guide_loads(tmp_path: Path) -> None:
    guide = (REPO_ROOT / "docs" / "operations.md").read_text()
    section = guide.split("## Map EFS file systems to NFS", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "minecs.yaml"
    config.write_text(example)
    (fs_id, mapped), *_ = settings.load(config, environ={}).controller.efs.file_systems.items()
    assert fs_id == "fs-0123456789abcdef0"
    assert (mapped.server, mapped.export, mapped.options) == ("nfs.lan", "/srv/efs/shared", "hard,timeo=600")
    assert mapped.access_points["fsap-0123456789abcdef0"].root == "/app"
