"""Pure: one ECS container definition plus its task's context -> the Docker ``ContainerSpec``.

This is the job the ECS backend does before it sends a task to the agent (it ships Docker config),
done locally. Everything that needs I/O (secret values, environment files, dynamic ports, volume
names, the pause container's id) is resolved by the engine first and passed in ``TaskContext``.

Mapping decisions, per ECS (`ecs-semantics.md` §6) unless marked as ours:

* name ``ecs-<family>-<revision>-<name without chars outside [A-Za-z0-9-]>-<20 hex>``;
* labels: the user's ``dockerLabels``, then exactly the five ``com.amazonaws.ecs.*`` labels (they win),
  then ``minecs.*`` bookkeeping labels (task id, container name, instance id);
* ``cpu`` -> CpuShares clamped to [2, 262144] (0 and 1 become 2); ``memory`` MiB -> hard limit bytes,
  raised to 4 MiB as the agent does; ``memoryReservation`` -> soft limit;
* environment precedence: environment files (top-down) < ``environment`` < overrides < the agent's
  metadata endpoint variables < secrets;
* ``healthCheck`` -> Docker health config; a command without ``CMD``/``CMD-SHELL`` gets ``CMD``;
* ``awslogs`` and ``awsfirelens`` have no local meaning: ours is to write json-file logs instead
  (the engine logs a warning once per task), other drivers pass through;
* awsvpc emulation: app containers join the pause container (``container:<id>``), carry no ports,
  hostname or links of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.runtime.base import ContainerSpec, HealthConfig, PortBinding, Ulimit
from minecs.model.task import TaskAssignment
from minecs.model.taskdef import ContainerDefinition, HealthCheck, LogDriver

CPU_SHARES_MIN, CPU_SHARES_MAX = 2, 262144
MIN_MEMORY_MIB = 4
MIB = 1024 * 1024
LOCAL_LOG_DRIVERS = frozenset({LogDriver.AWSLOGS, LogDriver.AWSFIRELENS})
_NAME_CHARS = re.compile(r"[^A-Za-z0-9-]")


def docker_name(family: str, revision: int, container: str, suffix: str) -> str:
    return f"ecs-{_NAME_CHARS.sub('', family)}-{revision}-{_NAME_CHARS.sub('', container)}-{suffix}"


@dataclass(frozen=True)
class TaskContext:
    """Everything about the task that a container's Docker config depends on, already resolved."""

    assignment: TaskAssignment
    instance_id: str
    docker_names: Mapping[str, str]
    network_mode: str = "bridge"
    ports: Mapping[str, tuple[PortBinding, ...]] = field(default_factory=dict)
    volume_sources: Mapping[str, str] = field(default_factory=dict)
    file_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    default_stop_timeout: int = 30
    cgroup_parent: str | None = None
    metadata_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per container: ECS_CONTAINER_METADATA_URI(_V4), set by the agent (``agent.endpoints.metadata``)."""


def container_spec(c: ContainerDefinition, ctx: TaskContext) -> ContainerSpec:
    name = c.name or ""
    override = ctx.assignment.override_for(name)
    log_driver, log_options = log_config(c)
    return ContainerSpec(
        name=ctx.docker_names[name],
        image=c.image or "",
        command=(override.command if override and override.command is not None else c.command) or None,
        entrypoint=c.entry_point or None,
        env=environment(c, ctx),
        labels=labels(c, ctx),
        health=health_config(c.health_check) if c.health_check else None,
        working_dir=c.working_directory,
        user=c.user,
        cpu_shares=cpu_shares(override.cpu if override and override.cpu is not None else c.cpu),
        memory=_mib(max(m, MIN_MEMORY_MIB)) if (m := _memory(c, override)) is not None else None,
        memory_reservation=_mib(r) if (r := _reservation(c, override)) is not None else None,
        memory_swap=_swap(c),
        cgroup_parent=ctx.cgroup_parent,
        tty=bool(c.pseudo_terminal),
        stdin_open=bool(c.interactive),
        stop_timeout=c.stop_timeout if c.stop_timeout is not None else ctx.default_stop_timeout,
        log_driver=log_driver,
        log_options=log_options,
        **_networking(c, ctx),
        **_storage(c, ctx),
        **_linux(c),
    )


def _networking(c: ContainerDefinition, ctx: TaskContext) -> dict[str, Any]:
    """The network part of a spec; a container joined to another's namespace (awsvpc) sets none."""
    joined = ctx.network_mode.startswith("container:")
    return {
        "ports": () if joined else ctx.ports.get(c.name or "", ()),
        "network_mode": ctx.network_mode,
        "hostname": None if joined or ctx.network_mode == "host" else c.hostname,
        "links": {} if joined else {ctx.docker_names[target]: alias for target, alias in _links(c)},
        "dns": () if joined else c.dns_servers,
        "dns_search": () if joined else c.dns_search_domains,
        "extra_hosts": {} if joined else {h.hostname: h.ip_address for h in c.extra_hosts},
        "network_disabled": bool(c.disable_networking),
    }


def _storage(c: ContainerDefinition, ctx: TaskContext) -> dict[str, Any]:
    return {
        "volumes_from": tuple(
            ctx.docker_names[v.source_container] + (":ro" if v.read_only else "")
            for v in c.volumes_from
            if v.source_container
        ),
        "binds": tuple(
            f"{ctx.volume_sources[m.source_volume]}:{m.container_path}" + (":ro" if m.read_only else "")
            for m in c.mount_points
            if m.source_volume and m.container_path
        ),
    }


def _linux(c: ContainerDefinition) -> dict[str, Any]:
    """linuxParameters and the other kernel-facing members, each a Docker HostConfig setting."""
    params = c.linux_parameters
    caps = params.capabilities if params else None
    return {
        "swappiness": params.swappiness if params else None,
        "tmpfs": {t.container_path: ",".join([f"size={t.size}m", *t.mount_options]) for t in params.tmpfs}
        if params
        else {},
        "privileged": bool(c.privileged),
        "read_only": bool(c.readonly_root_filesystem),
        "init": params.init_process_enabled if params else None,
        "cap_add": caps.add if caps else (),
        "cap_drop": caps.drop if caps else (),
        "security_opt": c.docker_security_options,
        "sysctls": {s.namespace: s.value or "" for s in c.system_controls if s.namespace},
        "ulimits": tuple(Ulimit(u.name.value, u.soft_limit, u.hard_limit) for u in c.ulimits),
        "devices": tuple(_device(d.host_path, d.container_path, d.permissions) for d in params.devices)
        if params
        else (),
        "shm_size": _mib(params.shared_memory_size) if params and params.shared_memory_size else None,
    }


def cpu_shares(cpu: int | None) -> int:
    return min(max(cpu or 0, CPU_SHARES_MIN), CPU_SHARES_MAX)


def _mib(value: int) -> int:
    return value * MIB


def _memory(c: ContainerDefinition, override: object) -> int | None:
    value = getattr(override, "memory", None)
    return value if value is not None else c.memory


def _reservation(c: ContainerDefinition, override: object) -> int | None:
    value = getattr(override, "memory_reservation", None)
    return value if value is not None else c.memory_reservation


def _swap(c: ContainerDefinition) -> int | None:
    params = c.linux_parameters
    if params is None or params.max_swap is None or c.memory is None:
        return None
    # Docker's memory-swap is memory + swap; ECS maxSwap is the swap alone (0 disables swap).
    return _mib(c.memory + params.max_swap)


def _links(c: ContainerDefinition) -> list[tuple[str, str]]:
    pairs = []
    for link in c.links:
        target, _, alias = link.partition(":")
        pairs.append((target, alias or target))
    return pairs


def _device(host: str, container: str | None, permissions: tuple[object, ...]) -> str:
    perms = "".join(str(getattr(p, "value", p))[0] for p in permissions) or "rwm"
    return f"{host}:{container or host}:{perms}"


def environment(c: ContainerDefinition, ctx: TaskContext) -> dict[str, str]:
    name = c.name or ""
    env: dict[str, str] = dict(ctx.file_env.get(name, {}))
    env.update({pair.name: pair.value or "" for pair in c.environment if pair.name})
    override = ctx.assignment.override_for(name)
    if override:
        env.update(override.environment)
    env.update(ctx.metadata_env.get(name, {}))
    env.update(ctx.secrets.get(name, {}))
    return env


def labels(c: ContainerDefinition, ctx: TaskContext) -> dict[str, str]:
    a = ctx.assignment
    return {
        **c.docker_labels,
        "com.amazonaws.ecs.task-arn": a.task_arn,
        "com.amazonaws.ecs.container-name": c.name or "",
        "com.amazonaws.ecs.task-definition-family": a.definition.family,
        "com.amazonaws.ecs.task-definition-version": str(a.definition.revision),
        "com.amazonaws.ecs.cluster": a.cluster,
        "minecs.task-id": a.task_id,
        "minecs.container-name": c.name or "",
        "minecs.instance-id": ctx.instance_id,
        **ctx.extra_labels,
    }


def health_config(check: HealthCheck) -> HealthConfig:
    test = check.command if check.command[:1] in (("CMD",), ("CMD-SHELL",)) else ("CMD", *check.command)
    return HealthConfig(
        test=tuple(test),
        interval=check.interval,
        timeout=check.timeout,
        retries=check.retries,
        start_period=check.start_period,
    )


def log_config(c: ContainerDefinition) -> tuple[str | None, dict[str, str]]:
    """(driver, options): json-file for ECS's cloud drivers, the user's driver otherwise."""
    config = c.log_configuration
    if config is None or config.log_driver in LOCAL_LOG_DRIVERS:
        return "json-file", {}
    return config.log_driver.value, dict(config.options)
