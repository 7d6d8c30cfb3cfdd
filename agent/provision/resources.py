"""Task-level resources, made before the first container and released after the last: host ports,
secrets and environment files, volumes, and the pause container that emulates awsvpc.

``provision`` returns the ``TaskContext`` that ``containerconfig`` turns into Docker configs. Any
failure is a ``ResourceInitError`` whose message becomes the task's ``ResourceInitializationError:``
reason (stop code TaskFailedToStart), as ECS reports a secret or volume it could not prepare.

Decisions:

* bridge: static host ports are claimed, dynamic ones allocated by ``PortTable``; all published on
  the agent's ``publish_address``.
* host: the task uses the host's ports directly; its container ports are claimed so that a second copy
  on the same host is refused instead of failing inside Docker.
* awsvpc (emulated): one pause container per task holds the network namespace; the app containers
  join it (``container:<id>``) and reach each other on localhost. On AWS each task has its own IP;
  here it has the host's, so the task's container ports are published on the pause container through
  *dynamic* host ports (two copies of a task can run on one host), reported as ``networkBindings``.
* volumes: ``host.sourcePath`` is bound as is; an empty ``host`` and ``scope: task`` Docker volumes are
  task-scoped volumes named ``ecs-<family>-<rev>-<volume>-<hex>`` and removed with the task;
  ``scope: shared`` volumes are named exactly and created only with ``autoprovision: true``; an EFS
  volume is a task-scoped ``local`` volume of ``type=nfs`` on the mount the controller resolved
  (``nfs_driver_opts``). Docker mounts it when the first container using it starts, so an NFS server
  that cannot be reached fails that container's start, with the engine's mount error as the reason.
"""

from __future__ import annotations

import secrets as random_hex
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.endpoints.metadata import Endpoints
from agent.provision.cgroups import TaskLimits, create_task_cgroup
from agent.provision.containerconfig import TaskContext, docker_name
from agent.provision.ports import PortTable
from agent.provision.secrets import SecretResolver, read_env_files, resolve_secrets
from agent.runtime.base import ContainerSpec, Driver, PortBinding, PortProtocol
from minecs.errors import DriverError, PortsExhaustedError, ResourceInitError, SecretNotFoundError
from minecs.logs import get_logger
from minecs.model.efs import NfsMount
from minecs.model.task import NetworkBinding, TaskAssignment
from minecs.model.taskdef import NetworkMode, Scope, Volume
from minecs.settings import ProvisionSettings

log = get_logger(__name__)

PAUSE_NAME = "~internal~ecs~pause"
PAUSE_COMMAND = ("sh", "-c", "trap 'exit 0' TERM INT; sleep 2147483647 & wait")


@dataclass
class TaskResources:
    """What provisioning made for one task, so that it can be released exactly."""

    owner: str
    pause_id: str | None = None
    task_volumes: list[str] = field(default_factory=list)
    bindings: dict[str, tuple[NetworkBinding, ...]] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.pause_id is not None


@dataclass(frozen=True)
class InstanceFacts:
    """What this agent process tells provisioning that is not a setting (``minecs.settings``)."""

    instance_id: str = "local"
    """The instance id the controller gave at registration; labels every container."""
    publish_address: str = "0.0.0.0"
    """``docker.publish_address`` or ``--publish-address``, as the daemon resolved it at start."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    """``--label`` s, on every container."""
    metadata: Endpoints | None = None
    """The task metadata endpoint containers are told about, once it serves; None: no endpoint."""


def metadata_env(assignment: TaskAssignment, metadata: Endpoints | None) -> dict[str, dict[str, str]]:
    """Each container's metadata endpoint variables (none without an endpoint)."""
    if metadata is None:
        return {}
    mode = assignment.definition.network_mode.value
    return {
        c.name or "": metadata.environment(assignment, c.name or "", mode)
        for c in assignment.definition.container_definitions
    }


async def provision(
    assignment: TaskAssignment,
    *,
    driver: Driver,
    ports: PortTable,
    resolver: SecretResolver | None,
    settings: ProvisionSettings,
    facts: InstanceFacts,
    resources: TaskResources,
) -> TaskContext:
    td = assignment.definition
    suffix = random_hex.token_hex(10)
    names = {
        c.name or "": docker_name(td.family, td.revision, c.name or "", suffix)
        for c in td.container_definitions
    }
    file_env, secret_env = resolve_environment(assignment, resolver)
    bound = _allocate_ports(assignment, ports, facts.publish_address, resources)
    volume_sources = await _volumes(assignment, driver, suffix, facts, resources)
    limits = TaskLimits(int(td.cpu) if td.cpu else None, int(td.memory) if td.memory else None)
    parent = None
    if limits.any:  # only then ask Docker for its cgroup driver: the info call costs ~10 ms
        parent = await create_task_cgroup(
            assignment.task_id, limits, cgroup_driver=await driver.cgroup_driver()
        )
    network_mode = td.network_mode.value
    if td.network_mode is NetworkMode.AWSVPC:
        resources.pause_id = await _start_pause(assignment, driver, bound, suffix, facts, settings=settings)
        network_mode = f"container:{resources.pause_id}"
        bound = {}
    return TaskContext(
        assignment=assignment,
        instance_id=facts.instance_id,
        docker_names=names,
        network_mode=network_mode,
        ports=bound,
        volume_sources=volume_sources,
        file_env=file_env,
        secrets=secret_env,
        extra_labels=facts.extra_labels,
        default_stop_timeout=settings.default_stop_timeout,
        cgroup_parent=parent,
        metadata_env=metadata_env(assignment, facts.metadata),
    )


def resolve_environment(
    assignment: TaskAssignment, resolver: SecretResolver | None
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    file_env: dict[str, dict[str, str]] = {}
    secret_env: dict[str, dict[str, str]] = {}
    for c in assignment.definition.container_definitions:
        name = c.name or ""
        try:
            file_env[name] = read_env_files([f.value for f in c.environment_files])
            wanted = {s.name: s.value_from for s in c.secrets}
            if wanted and resolver is None:
                raise SecretNotFoundError("this agent has no secret store configured")
            secret_env[name] = resolve_secrets(resolver, wanted) if resolver and wanted else {}
        except SecretNotFoundError as exc:
            raise ResourceInitError(
                f"unable to pull secrets or environment files for container {name}: {exc.message}"
            ) from exc
    return file_env, secret_env


def _allocate_ports(
    assignment: TaskAssignment, ports: PortTable, address: str, resources: TaskResources
) -> dict[str, tuple[PortBinding, ...]]:
    mode = assignment.definition.network_mode
    bound: dict[str, tuple[PortBinding, ...]] = {}
    try:
        for c in assignment.definition.container_definitions:
            bindings = [
                _bind(
                    m.container_port or 0,
                    m.host_port,
                    m.protocol.value,
                    mode=mode,
                    ports=ports,
                    owner=resources.owner,
                )
                for m in c.port_mappings
                if m.container_port
            ]
            bound[c.name or ""] = tuple(
                PortBinding(cp, hp, PortProtocol(proto), address) for cp, hp, proto in bindings
            )
            resources.bindings[c.name or ""] = tuple(
                NetworkBinding(cp, hp, proto, address if mode is not NetworkMode.HOST else "0.0.0.0")
                for cp, hp, proto in bindings
            )
    except PortsExhaustedError as exc:
        raise ResourceInitError(exc.message) from exc
    return {} if mode is NetworkMode.HOST else bound


def _bind(
    container_port: int,
    host_port: int | None,
    protocol: str,
    *,
    mode: NetworkMode,
    ports: PortTable,
    owner: str,
) -> tuple[int, int, str]:
    static = (
        container_port if mode is NetworkMode.HOST else (host_port if mode is NetworkMode.BRIDGE else None)
    )
    if static:
        if not ports.claim(owner, static, protocol):
            raise ResourceInitError(
                f"host port {static}/{protocol} is already used by another task on this instance"
            )
        return container_port, static, protocol
    return container_port, ports.allocate(owner, protocol), protocol


async def _volumes(
    assignment: TaskAssignment,
    driver: Driver,
    suffix: str,
    facts: InstanceFacts,
    resources: TaskResources,
) -> dict[str, str]:
    td = assignment.definition
    sources: dict[str, str] = {}
    for volume in td.volumes:
        name = volume.name or ""
        if volume.host is not None and volume.host.source_path:
            sources[name] = volume.host.source_path
            continue
        if volume.efs_volume_configuration is not None:
            sources[name] = await _nfs_volume(
                assignment, name, driver=driver, suffix=suffix, facts=facts, resources=resources
            )
            continue
        sources[name] = await _docker_volume(
            assignment, volume, driver=driver, suffix=suffix, facts=facts, resources=resources
        )
    return sources


async def _docker_volume(
    assignment: TaskAssignment,
    volume: Volume,
    *,
    driver: Driver,
    suffix: str,
    facts: InstanceFacts,
    resources: TaskResources,
) -> str:
    td = assignment.definition
    config = volume.docker_volume_configuration
    name = volume.name or ""
    labels = _volume_labels(assignment, facts)
    try:
        if config is not None and config.scope is Scope.SHARED:
            if not await driver.volume_exists(name):
                if not config.autoprovision:
                    raise ResourceInitError(
                        f"volume '{name}' does not exist and autoprovision is set to false"
                    )
                labels = {**labels, **config.labels}
                await driver.create_volume(
                    name, driver=config.driver or "local", driver_opts=config.driver_opts, labels=labels
                )
            return name
        task_volume = docker_name(td.family, td.revision, name, suffix)
        await driver.create_volume(
            task_volume,
            driver=(config.driver if config else None) or "local",
            driver_opts=config.driver_opts if config else {},
            labels={**labels, **(config.labels if config else {})},
        )
        resources.task_volumes.append(task_volume)
        return task_volume
    except DriverError as exc:
        raise ResourceInitError(f"cannot create volume '{name}': {exc.message}") from exc


def _volume_labels(assignment: TaskAssignment, facts: InstanceFacts) -> dict[str, str]:
    return {
        "minecs.task-id": assignment.task_id,
        "minecs.instance-id": facts.instance_id,
        **facts.extra_labels,
    }


def nfs_driver_opts(mount: NfsMount) -> dict[str, str]:
    """The ``local`` driver's options that mount ``mount``: ``type=nfs``, ``o=addr=...``, ``device=:path``."""
    options = [f"addr={mount.server}", f"nfsvers={mount.nfs_version}"]
    if mount.port is not None:
        options.append(f"port={mount.port}")
    options += mount.options
    if mount.read_only:
        options.append("ro")
    return {"type": "nfs", "o": ",".join(options), "device": f":{mount.path}"}


async def _nfs_volume(
    assignment: TaskAssignment,
    name: str,
    *,
    driver: Driver,
    suffix: str,
    facts: InstanceFacts,
    resources: TaskResources,
) -> str:
    mount = assignment.nfs_volumes.get(name)
    if mount is None:
        raise ResourceInitError(f"volume '{name}': the controller sent no NFS mount for this EFS volume")
    td = assignment.definition
    task_volume = docker_name(td.family, td.revision, name, suffix)
    labels = _volume_labels(assignment, facts)
    try:
        await driver.create_volume(
            task_volume, driver="local", driver_opts=nfs_driver_opts(mount), labels=labels
        )
    except DriverError as exc:
        raise ResourceInitError(f"cannot create volume '{name}': {exc.message}") from exc
    resources.task_volumes.append(task_volume)
    return task_volume


async def _start_pause(
    assignment: TaskAssignment,
    driver: Driver,
    bound: Mapping[str, tuple[PortBinding, ...]],
    suffix: str,
    facts: InstanceFacts,
    *,
    settings: ProvisionSettings,
) -> str:
    td = assignment.definition
    spec = ContainerSpec(
        name=docker_name(td.family, td.revision, "internalecspause", suffix),
        image=settings.pause_image,
        command=PAUSE_COMMAND,
        labels={
            "com.amazonaws.ecs.task-arn": assignment.task_arn,
            "com.amazonaws.ecs.container-name": PAUSE_NAME,
            "com.amazonaws.ecs.cluster": assignment.cluster,
            "minecs.task-id": assignment.task_id,
            "minecs.container-name": PAUSE_NAME,
            "minecs.instance-id": facts.instance_id,
            **facts.extra_labels,
        },
        ports=tuple(p for bindings in bound.values() for p in bindings),
        network_mode="bridge",
        stop_timeout=settings.pause_stop_timeout,
    )
    try:
        pause_id = await driver.create(spec)
        await driver.start(pause_id)
    except DriverError as exc:
        raise ResourceInitError(
            f"cannot start the task's network namespace (pause container): {exc.message}"
        ) from exc
    return pause_id


async def deprovision(driver: Driver, ports: PortTable, resources: TaskResources) -> None:
    """Release what the running task held: the pause container and its host ports."""
    if resources.pause_id is not None:
        try:
            await driver.stop(resources.pause_id, grace=5)
            await driver.remove(resources.pause_id, force=True)
        except DriverError as exc:
            log.warning("pause container removal failed", error=exc.message)
        resources.pause_id = None
    ports.release(resources.owner)


async def remove_task_volumes(driver: Driver, resources: TaskResources) -> None:
    for name in resources.task_volumes:
        try:
            await driver.remove_volume(name)
        except DriverError as exc:
            log.warning("task volume removal failed", volume=name, error=exc.message)
    resources.task_volumes.clear()
