"""A container definition becomes the Docker config ECS would have sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.provision.containerconfig import (
    TaskContext,
    container_spec,
    cpu_shares,
    docker_name,
    health_config,
)
from agent.runtime.base import PortBinding, Ulimit
from minecs.model.registered import register
from minecs.model.task import ContainerOverride, TaskAssignment
from minecs.model.taskdef import HealthCheck
from minecs.validation import parse_task_definition

MIB = 1024 * 1024


def context(
    *containers: dict[str, Any], overrides: tuple[ContainerOverride, ...] = (), **ctx: Any
) -> TaskContext:
    volumes = [{"name": name} for name in ctx.get("volume_sources", {})]
    spec = parse_task_definition(
        {"family": "web_app", "containerDefinitions": list(containers), "volumes": volumes}
    )
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/web:3", revision=3, registered_at=datetime.now(UTC)
    )
    a = TaskAssignment(
        task_arn="arn:aws:ecs:r:1:task/default/abc", cluster="edge", definition=td, overrides=overrides
    )
    names = {c["name"]: f"docker-{c['name']}" for c in containers}
    return TaskContext(assignment=a, instance_id="i-1", docker_names=names, **ctx)


def spec_of(ctx: TaskContext, index: int = 0) -> Any:
    return container_spec(ctx.assignment.definition.container_definitions[index], ctx)


def test_docker_name_keeps_only_ecs_characters() -> None:
    assert docker_name("web_app", 3, "log_router", "ab" * 10) == "ecs-webapp-3-logrouter-" + "ab" * 10


def test_labels_env_and_resources() -> None:
    ctx = context(
        {
            "name": "app",
            "image": "img",
            "cpu": 1,
            "memory": 8,
            "memoryReservation": 2,
            "environment": [{"name": "A", "value": "env"}, {"name": "B", "value": "env"}],
            "dockerLabels": {"com.amazonaws.ecs.cluster": "spoofed", "team": "a"},
        },
        file_env={"app": {"A": "file", "C": "file"}},
        secrets={"app": {"B": "secret"}},
        extra_labels={"minecs.test": "1"},
    )
    spec = spec_of(ctx)
    assert spec.name == "docker-app"
    assert spec.env == {"A": "env", "B": "secret", "C": "file"}
    assert spec.labels == {
        "team": "a",
        "com.amazonaws.ecs.task-arn": "arn:aws:ecs:r:1:task/default/abc",
        "com.amazonaws.ecs.container-name": "app",
        "com.amazonaws.ecs.task-definition-family": "web_app",
        "com.amazonaws.ecs.task-definition-version": "3",
        "com.amazonaws.ecs.cluster": "edge",
        "minecs.task-id": "abc",
        "minecs.container-name": "app",
        "minecs.instance-id": "i-1",
        "minecs.test": "1",
    }
    assert (spec.cpu_shares, spec.memory, spec.memory_reservation) == (2, 8 * MIB, 2 * MIB)
    assert spec.stop_timeout == 30


def test_overrides_win() -> None:
    ctx = context(
        {"name": "app", "image": "img", "memory": 64, "command": ["a"]},
        overrides=(ContainerOverride("app", command=("b",), environment={"X": "1"}, cpu=512, memory=128),),
    )
    spec = spec_of(ctx)
    assert (spec.command, spec.env, spec.cpu_shares, spec.memory) == (("b",), {"X": "1"}, 512, 128 * MIB)


def test_cpu_shares_clamp() -> None:
    assert [cpu_shares(x) for x in (None, 0, 1, 2, 1024, 10**6)] == [2, 2, 2, 2, 1024, 262144]


def test_links_volumes_and_linux_parameters() -> None:
    ctx = context(
        {"name": "db", "image": "img", "memory": 64},
        {
            "name": "app",
            "image": "img",
            "memory": 64,
            "links": ["db:database"],
            "volumesFrom": [{"sourceContainer": "db", "readOnly": True}],
            "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": True}],
            "ulimits": [{"name": "nofile", "softLimit": 10, "hardLimit": 20}],
            "linuxParameters": {
                "initProcessEnabled": True,
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
                "tmpfs": [{"containerPath": "/run", "size": 16, "mountOptions": ["noexec"]}],
                "sharedMemorySize": 8,
                "maxSwap": 0,
                "swappiness": 10,
            },
            "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
            "extraHosts": [{"hostname": "h", "ipAddress": "127.0.0.2"}],
            "dnsServers": ["127.0.0.53"],
            "user": "nobody",
            "workingDirectory": "/w",
            "readonlyRootFilesystem": True,
            "privileged": False,
            "pseudoTerminal": True,
            "interactive": True,
        },
        volume_sources={"data": "/srv/data"},
        ports={"app": (PortBinding(80, 32000, host_ip="127.0.0.1"),)},
    )
    spec = spec_of(ctx, 1)
    assert spec.links == {"docker-db": "database"}
    assert spec.volumes_from == ("docker-db:ro",)
    assert spec.binds == ("/srv/data:/data:ro",)
    assert spec.ulimits == (Ulimit("nofile", 10, 20),)
    assert (spec.init, spec.cap_add, spec.cap_drop) == (True, ("NET_ADMIN",), ("MKNOD",))
    assert spec.tmpfs == {"/run": "size=16m,noexec"}
    assert (spec.shm_size, spec.memory_swap, spec.swappiness) == (8 * MIB, 64 * MIB, 10)
    assert spec.sysctls == {"net.core.somaxconn": "1024"}
    assert (spec.extra_hosts, spec.dns, spec.user, spec.working_dir) == (
        {"h": "127.0.0.2"},
        ("127.0.0.53",),
        "nobody",
        "/w",
    )
    assert (spec.read_only, spec.privileged, spec.tty, spec.stdin_open) == (True, False, True, True)
    assert spec.ports == (PortBinding(80, 32000, host_ip="127.0.0.1"),)


def test_joined_network_namespace_drops_ports_hostname_and_links() -> None:
    ctx = context(
        {"name": "db", "image": "img", "memory": 64},
        {"name": "app", "image": "img", "memory": 64, "links": ["db"], "hostname": "h"},
        network_mode="container:pause",
        ports={"app": (PortBinding(80, 1),)},
    )
    spec = spec_of(ctx, 1)
    assert (spec.network_mode, spec.ports, spec.links, spec.hostname) == ("container:pause", (), {}, None)


def test_log_drivers() -> None:
    ctx = context(
        {
            "name": "a",
            "image": "i",
            "memory": 8,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
        },
        {
            "name": "b",
            "image": "i",
            "memory": 8,
            "logConfiguration": {"logDriver": "syslog", "options": {"tag": "x"}},
        },
        {"name": "c", "image": "i", "memory": 8},
    )
    assert (spec_of(ctx, 0).log_driver, spec_of(ctx, 0).log_options) == ("json-file", {})
    assert (spec_of(ctx, 1).log_driver, spec_of(ctx, 1).log_options) == ("syslog", {"tag": "x"})
    assert spec_of(ctx, 2).log_driver == "json-file"


def test_health_config_assumes_cmd() -> None:
    assert health_config(HealthCheck(command=("curl", "-f", "x"))).test == ("CMD", "curl", "-f", "x")
    assert health_config(HealthCheck(command=("CMD-SHELL", "true"), interval=5)).interval == 5
