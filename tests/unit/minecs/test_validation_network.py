"""Port mappings by networkMode, and the awsvpc-only restrictions."""

from __future__ import annotations

from typing import Any

import pytest

from minecs.model.containerdef import PortMapping
from minecs.model.taskdef import NetworkMode
from minecs.validation.network import static_host_port
from tests.taskdefs import container, problems, taskdef, valid

CE = "ClientException"


def ports(*mappings: dict[str, Any], mode: str = "bridge", **extra: Any) -> dict[str, Any]:
    return taskdef(container(portMappings=list(mappings), **extra), networkMode=mode)


def test_bridge_dynamic_and_static_ports_are_valid() -> None:
    spec = valid(
        ports(
            {"containerPort": 80},
            {"containerPort": 81, "hostPort": 0},
            {"containerPort": 82, "hostPort": 8082},
            {"containerPort": 53, "hostPort": 8082, "protocol": "udp"},
        )
    )
    assert [m.host_port for m in spec.container_definitions[0].port_mappings] == [None, 0, 8082, 8082]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_container_port_range(port: int) -> None:
    assert problems(ports({"containerPort": port})) == [
        (
            CE,
            "containerDefinitions[0].portMappings[0].containerPort",
            "Invalid 'containerPort' setting for container 'app'.",
        )
    ]


def test_missing_container_port() -> None:
    assert problems(ports({"hostPort": 80})) == [
        (
            CE,
            "containerDefinitions[0].portMappings[0].containerPort",
            "Invalid 'containerPort' setting for container 'app'.",
        )
    ]


def test_host_port_range() -> None:
    assert problems(ports({"containerPort": 80, "hostPort": 70000})) == [
        (
            CE,
            "containerDefinitions[0].portMappings[0].hostPort",
            "Invalid 'hostPort' setting for container 'app'.",
        )
    ]


def test_host_mode_ports_must_match() -> None:
    valid(ports({"containerPort": 80}, {"containerPort": 81, "hostPort": 81}, mode="host"))
    assert problems(ports({"containerPort": 80, "hostPort": 8080}, mode="host")) == [
        (
            CE,
            "containerDefinitions[0].portMappings[0].hostPort",
            "When networkMode=host, the host ports and container ports in port mappings must match",
        )
    ]


def test_awsvpc_ports_must_match_and_hostname_extra_hosts_are_refused() -> None:
    valid(ports({"containerPort": 80}, {"containerPort": 81, "hostPort": 81}, mode="awsvpc"))
    found = problems(
        ports(
            {"containerPort": 80, "hostPort": 0},
            mode="awsvpc",
            hostname="h",
            extraHosts=[{"hostname": "a", "ipAddress": "127.0.0.2"}],
        )
    )
    assert found == [
        (
            CE,
            "containerDefinitions[0].hostname",
            "The hostname parameter is not supported when networkMode=awsvpc.",
        ),
        (
            CE,
            "containerDefinitions[0].extraHosts",
            "The extraHosts parameter is not supported when networkMode=awsvpc.",
        ),
        (
            CE,
            "containerDefinitions[0].portMappings[0].hostPort",
            "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
        ),
    ]


def test_none_mode_refuses_port_mappings() -> None:
    valid(taskdef(container(), networkMode="none"))
    assert problems(ports({"containerPort": 80}, mode="none")) == [
        (CE, "containerDefinitions[0].portMappings", "Port mappings are not supported when networkMode=none.")
    ]


def test_duplicate_static_host_ports_in_a_task() -> None:
    doc = taskdef(
        container("a", portMappings=[{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]),
        container("b", portMappings=[{"containerPort": 90, "hostPort": 8080}, {"containerPort": 91}]),
    )
    assert problems(doc) == [
        (
            CE,
            "containerDefinitions[1].portMappings[0].hostPort",
            "Host port 8080/tcp is mapped more than once in the task (containers 'a' and 'b').",
        )
    ]


def test_awsvpc_containers_share_ports() -> None:
    doc = taskdef(
        container("a", portMappings=[{"containerPort": 80}]),
        container("b", portMappings=[{"containerPort": 80}]),
        networkMode="awsvpc",
    )
    assert problems(doc) == [
        (
            CE,
            "containerDefinitions[1].portMappings[0].hostPort",
            "Host port 80/tcp is mapped more than once in the task (containers 'a' and 'b').",
        )
    ]


def test_container_port_ranges() -> None:
    valid(ports({"containerPortRange": "8000-8010"}))
    assert problems(ports({"containerPortRange": "8010-8000"}))[0][2] == (
        "Invalid 'containerPortRange' setting for container 'app': '8010-8000' is not a range like 8000-8010 within 1-65535."
    )
    assert problems(ports({"containerPortRange": "8000-8010", "containerPort": 8000}))[0][2].startswith(
        "Invalid port mapping for container 'app'. Set either containerPortRange"
    )
    assert problems(ports({"containerPortRange": "8000-8010"}, mode="host")) == [
        (
            CE,
            "containerDefinitions[0].portMappings[0].containerPortRange",
            "containerPortRange is not supported when networkMode=host.",
        )
    ]


def test_static_host_port() -> None:
    assert static_host_port(PortMapping(container_port=80), NetworkMode.BRIDGE) is None
    assert static_host_port(PortMapping(container_port=80, host_port=0), NetworkMode.BRIDGE) is None
    assert static_host_port(PortMapping(container_port=80, host_port=81), NetworkMode.BRIDGE) == 81
    assert static_host_port(PortMapping(container_port=80), NetworkMode.HOST) == 80
    assert static_host_port(PortMapping(container_port=80), NetworkMode.AWSVPC) == 80
