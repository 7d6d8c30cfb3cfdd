"""The metadata endpoint's pure parts: ids and URIs per network mode, stable across restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.endpoints.metadata import Endpoints, load_key
from agent.provision.containerconfig import TaskContext, container_spec
from agent.provision.resources import metadata_env
from minecs.model.registered import register
from minecs.model.task import TaskAssignment
from minecs.validation import parse_task_definition
from tests.taskdefs import container, taskdef

ENDPOINTS = Endpoints(b"k" * 32, "http://172.17.0.1:51679", "http://127.0.0.1:51679")


def assignment(mode: str) -> TaskAssignment:
    spec = parse_task_definition(taskdef(container("app"), container("log"), networkMode=mode))
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/web:1", revision=1, registered_at=datetime.now(UTC)
    )
    return TaskAssignment(task_arn="arn:aws:ecs:r:1:task/default/abc", cluster="default", definition=td)


def test_each_container_gets_its_own_unguessable_id_at_an_address_it_can_reach() -> None:
    bridge = metadata_env(assignment("bridge"), ENDPOINTS)
    app, log = bridge["app"]["ECS_CONTAINER_METADATA_URI_V4"], bridge["log"]["ECS_CONTAINER_METADATA_URI_V4"]
    assert app.startswith("http://172.17.0.1:51679/v4/")
    assert app != log
    assert len(app.rsplit("/", 1)[-1]) == 32
    assert bridge["app"]["ECS_CONTAINER_METADATA_URI"] == app.replace("/v4/", "/v3/")
    assert metadata_env(assignment("awsvpc"), ENDPOINTS)["app"]["ECS_CONTAINER_METADATA_URI_V4"] == app
    host = metadata_env(assignment("host"), ENDPOINTS)["app"]["ECS_CONTAINER_METADATA_URI_V4"]
    assert host.startswith("http://127.0.0.1:51679/v4/")
    assert metadata_env(assignment("none"), ENDPOINTS) == {"app": {}, "log": {}}
    assert metadata_env(assignment("bridge"), None) == {}
    other_key = Endpoints(b"x" * 32, ENDPOINTS.bridge, ENDPOINTS.loopback)
    assert other_key.endpoint_id("arn:aws:ecs:r:1:task/default/abc", "app") not in app  # keyed, not derivable


def test_the_key_survives_a_restart_so_old_containers_keep_their_uri(tmp_path: Path) -> None:
    first = load_key(tmp_path)
    assert load_key(tmp_path) == first
    assert (tmp_path / "metadata.key").stat().st_mode & 0o777 == 0o600


def test_the_variables_reach_the_container_spec() -> None:
    a = assignment("bridge")
    env = metadata_env(a, ENDPOINTS)
    ctx = TaskContext(
        assignment=a, instance_id="i-1", docker_names={"app": "d-app", "log": "d-log"}, metadata_env=env
    )
    spec = container_spec(a.definition.container_definitions[0], ctx)
    assert spec.env["ECS_CONTAINER_METADATA_URI_V4"] == env["app"]["ECS_CONTAINER_METADATA_URI_V4"]
