"""Our container types to and from the Docker Engine API's JSON shapes: pure, no I/O.

``agent.runtime.docker`` calls the Engine; this module says what goes in (a ``ContainerSpec`` as
``create_container`` arguments: host config, health check, log config) and what comes out (an
inspect as ``ContainerInfo``, an event as ``ContainerEvent``, a listed status as ``Health``). It
imports only the docker SDK's plain value types (``LogConfig``, ``Ulimit``), never its client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docker.types import LogConfig
from docker.types import Ulimit as DockerUlimit

from agent.runtime.base import (
    ContainerEvent,
    ContainerInfo,
    ContainerSpec,
    Health,
    PortBinding,
    PortProtocol,
    RunState,
    parse_docker_time,
)

NANOS = 1_000_000_000


def create_args(spec: ContainerSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """``create_container``'s arguments but its host config, and ``create_host_config``'s arguments."""
    bindings: dict[int | str, Any] = {}
    for p in spec.ports:
        bindings.setdefault(f"{p.container_port}/{p.protocol.value}", []).append(
            (p.host_ip, p.host_port or None)
        )
    args = {
        "image": spec.image,
        "name": spec.name,
        "command": list(spec.command) if spec.command is not None else None,
        "entrypoint": list(spec.entrypoint) if spec.entrypoint is not None else None,
        "environment": dict(spec.env) or None,
        "labels": dict(spec.labels),
        "ports": [(p.container_port, p.protocol.value) for p in spec.ports] or None,
        "healthcheck": health_args(spec),
        "hostname": spec.hostname,
        "working_dir": spec.working_dir,
        "user": spec.user,
        "network_disabled": spec.network_disabled,
        "tty": spec.tty,
        "stdin_open": spec.stdin_open,
        "stop_timeout": spec.stop_timeout,
    }
    return args, host_config_args(spec, bindings)


def host_config_args(spec: ContainerSpec, bindings: dict[int | str, Any]) -> dict[str, Any]:
    """docker-py ``create_host_config`` keywords; unset members are left out so Docker's defaults hold."""
    args: dict[str, Any] = {
        "port_bindings": bindings or None,
        "network_mode": spec.network_mode,
        "cpu_shares": spec.cpu_shares,
        "mem_limit": spec.memory,
        "mem_reservation": spec.memory_reservation,
        "memswap_limit": spec.memory_swap,
        "mem_swappiness": spec.swappiness,
        "cgroup_parent": spec.cgroup_parent,
        "links": dict(spec.links) or None,
        "volumes_from": list(spec.volumes_from) or None,
        "binds": list(spec.binds) or None,
        "tmpfs": dict(spec.tmpfs) or None,
        "dns": list(spec.dns) or None,
        "dns_search": list(spec.dns_search) or None,
        "extra_hosts": dict(spec.extra_hosts) or None,
        "privileged": spec.privileged or None,
        "read_only": spec.read_only or None,
        "init": spec.init,
        "cap_add": list(spec.cap_add) or None,
        "cap_drop": list(spec.cap_drop) or None,
        "security_opt": list(spec.security_opt) or None,
        "sysctls": dict(spec.sysctls) or None,
        "ulimits": [DockerUlimit(name=u.name, soft=u.soft, hard=u.hard) for u in spec.ulimits] or None,
        "devices": list(spec.devices) or None,
        "shm_size": spec.shm_size,
    }
    if spec.log_driver:
        args["log_config"] = LogConfig(type=spec.log_driver, config=dict(spec.log_options))
    return {k: v for k, v in args.items() if v is not None}


def health_args(spec: ContainerSpec) -> dict[str, Any] | None:
    if spec.health is None:
        return None
    h = spec.health
    return {
        "test": list(h.test),
        "interval": int(h.interval * NANOS),
        "timeout": int(h.timeout * NANOS),
        "retries": h.retries,
        "start_period": int(h.start_period * NANOS),
    }


def container_info(raw: Mapping[str, Any]) -> ContainerInfo:
    state = raw.get("State") or {}
    config = raw.get("Config") or {}
    health = (state.get("Health") or {}).get("Status")
    running = bool(state.get("Running"))
    return ContainerInfo(
        id=raw["Id"],
        name=str(raw.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        state=RunState(state.get("Status", "created")),
        labels=dict(config.get("Labels") or {}),
        exit_code=None if running or state.get("Status") == "created" else state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
        error=str(state.get("Error") or ""),
        pid=int(state.get("Pid") or 0),
        started_at=parse_docker_time(state.get("StartedAt")),
        finished_at=parse_docker_time(state.get("FinishedAt")),
        health=Health(health) if health else Health.NONE,
        ports=bound_ports((raw.get("NetworkSettings") or {}).get("Ports") or {}),
        restart_count=int(raw.get("RestartCount") or 0),
    )


def bound_ports(ports: Mapping[str, Any]) -> tuple[PortBinding, ...]:
    bound = []
    for key, hosts in sorted(ports.items()):
        port, _, proto = key.partition("/")
        for host in hosts or ():
            bound.append(
                PortBinding(
                    container_port=int(port),
                    host_port=int(host["HostPort"]),
                    protocol=PortProtocol(proto or "tcp"),
                    host_ip=host.get("HostIp", ""),
                )
            )
    return tuple(bound)


def container_event(raw: Mapping[str, Any]) -> ContainerEvent | None:
    if raw.get("Type") != "container":
        return None
    action = str(raw.get("Action") or raw.get("status") or "")
    actor = raw.get("Actor") or {}
    attributes = dict(actor.get("Attributes") or {})
    health: Health | None = None
    # Docker reports health as one action string, "health_status: healthy".
    if action.startswith("health_status"):
        health = Health(action.partition(":")[2].strip() or "none")
        action = "health_status"
    exit_code = attributes.pop("exitCode", None)
    name = attributes.pop("name", "")
    attributes.pop("image", None)
    return ContainerEvent(
        action=action,
        container_id=str(actor.get("ID") or raw.get("id") or ""),
        name=name,
        labels=attributes,
        time_ns=int(raw.get("timeNano") or 0),
        exit_code=int(exit_code) if exit_code is not None else None,
        health=health,
    )


def listed_health(status: str) -> Health:
    """The health in a container list's ``Status`` text: "Up 3 minutes (healthy)", "(health: starting)"."""
    if status.endswith("(healthy)"):
        return Health.HEALTHY
    if status.endswith("(unhealthy)"):
        return Health.UNHEALTHY
    if status.endswith("(health: starting)"):
        return Health.STARTING
    return Health.NONE
