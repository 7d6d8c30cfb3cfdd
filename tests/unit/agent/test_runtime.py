"""Pure parsing at the runtime seam: Docker timestamps, inspect payloads and event payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.runtime.base import (
    Health,
    PortBinding,
    PortProtocol,
    RunState,
    bridge_gateway_of,
    parse_docker_time,
)
from agent.runtime.dockershapes import container_event, container_info


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T17:20:01.123456789Z", datetime(2026, 11, 25, 17, 20, 1, 123456, tzinfo=UTC)),
        ("2026-11-25T17:20:01.5Z", datetime(2026, 11, 25, 17, 20, 1, 500000, tzinfo=UTC)),
        ("2026-11-25T17:20:01Z", datetime(2026, 11, 25, 17, 20, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_docker_time(text: str | None, expected: datetime | None) -> None:
    assert parse_docker_time(text) == expected


def test_parse_docker_time_keeps_a_non_utc_offset() -> None:
    parsed = parse_docker_time("2026-11-25T18:20:01.000000001+01:00")
    assert parsed is not None
    assert parsed.astimezone(UTC) == datetime(2026, 11, 25, 17, 20, 1, tzinfo=UTC)


def test_inspect_payload_of_an_exited_container() -> None:
    info = container_info(
        {
            "Id": "abc",
            "Name": "/web",
            "RestartCount": 2,
            "Config": {"Image": "minecs/busybox:latest", "Labels": {"a": "1"}},
            "State": {
                "Status": "exited",
                "Running": False,
                "ExitCode": 137,
                "OOMKilled": True,
                "Pid": 0,
                "StartedAt": "2026-11-25T17:20:01.1Z",
                "FinishedAt": "2026-11-25T17:20:02.2Z",
                "Health": {"Status": "unhealthy"},
            },
            "NetworkSettings": {"Ports": {"80/tcp": None}},
        }
    )
    assert info.name == "web"
    assert (info.state, info.exit_code, info.oom_killed) == (RunState.EXITED, 137, True)
    assert info.health is Health.UNHEALTHY
    assert info.ports == ()
    assert info.restart_count == 2
    assert not info.running


def test_inspect_payload_of_a_running_container_has_no_exit_code_and_bound_ports() -> None:
    info = container_info(
        {
            "Id": "abc",
            "Name": "/web",
            "Config": {"Image": "x", "Labels": None},
            "State": {"Status": "running", "Running": True, "ExitCode": 0, "Pid": 99},
            "NetworkSettings": {
                "Ports": {
                    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
                    "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}],
                }
            },
        }
    )
    assert info.exit_code is None
    assert info.health is Health.NONE
    assert info.labels == {}
    assert info.ports == (
        PortBinding(53, 5353, PortProtocol.UDP, "127.0.0.1"),
        PortBinding(80, 32768, PortProtocol.TCP, "0.0.0.0"),
    )


def test_health_status_event_splits_action_and_status() -> None:
    event = container_event(
        {
            "Type": "container",
            "Action": "health_status: healthy",
            "Actor": {"ID": "abc", "Attributes": {"name": "web", "image": "x", "k": "v"}},
            "timeNano": 5,
        }
    )
    assert event is not None
    assert (event.action, event.health, event.name, event.labels) == (
        "health_status",
        Health.HEALTHY,
        "web",
        {"k": "v"},
    )


def test_die_event_carries_the_exit_code_and_other_types_are_ignored() -> None:
    died = container_event(
        {"Type": "container", "Action": "die", "Actor": {"ID": "a", "Attributes": {"exitCode": "3"}}}
    )
    assert died is not None
    assert died.exit_code == 3
    assert container_event({"Type": "network", "Action": "connect"}) is None


def test_the_health_in_a_container_list_status_text() -> None:
    from agent.runtime.dockershapes import listed_health

    assert listed_health("Up 3 minutes (healthy)") is Health.HEALTHY
    assert listed_health("Up 10 seconds (health: starting)") is Health.STARTING
    assert listed_health("Up 2 hours (unhealthy)") is Health.UNHEALTHY
    assert listed_health("Up 2 hours") is Health.NONE
    assert listed_health("Exited (0) 5 seconds ago") is Health.NONE


# ``docker network inspect bridge`` of a Docker Engine 20.10 on its first boot (seen on this host):
# IPAM has a Subnet but no Gateway.
FIRST_BOOT_BRIDGE = {
    "Name": "bridge",
    "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": "172.17.0.0/16"}]},
    "Options": {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.name": "docker0",
    },
}


@pytest.mark.parametrize(
    ("network", "interfaces", "expected"),
    [
        # After a restart dockerd fills the Gateway in: it wins.
        (
            {**FIRST_BOOT_BRIDGE, "IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]}},
            {"docker0": "10.9.9.9"},
            "172.17.0.1",
        ),
        # First boot: the bridge interface's own address.
        (FIRST_BOOT_BRIDGE, {"docker0": "172.18.0.1"}, "172.18.0.1"),
        # First boot, the interface not visible here (another network namespace): the subnet's first host.
        (FIRST_BOOT_BRIDGE, {}, "172.17.0.1"),
        # An IPv6 gateway is not where the metadata endpoint listens; the IPv4 subnet is.
        (
            {"IPAM": {"Config": [{"Subnet": "fd00::/64", "Gateway": "fd00::1"}, {"Subnet": "10.1.0.0/24"}]}},
            {},
            "10.1.0.1",
        ),
        ({"IPAM": {"Config": None}}, {}, None),
        ({}, {}, None),
        ({"IPAM": {"Config": [{"Subnet": "not a subnet"}]}}, {}, None),
    ],
)
def test_the_bridge_gateway_is_found_with_or_without_ipam_gateway(
    network: dict[str, object], interfaces: dict[str, str], expected: str | None
) -> None:
    assert bridge_gateway_of(network, interfaces.get) == expected
