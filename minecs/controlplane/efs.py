"""EFS volumes resolved to NFS mounts when a task is launched (RunTask, StartTask, a service's launch).

A task definition names an EFS file system by ``fileSystemId`` (and maybe an access point); the
setting ``controller.efs.file_systems`` says which NFS server and export that is on this site.
``nfs_volumes`` turns each EFS volume of a definition into the ``NfsMount`` the agent mounts, or
refuses the launch with a ``ClientException`` that names the setting to change. Pure: no I/O.

Decisions (docs/task-definition-support.md):

* the path mounted is the export joined with ``rootDirectory`` (ECS's default ``/``), or with the
  access point's ``root`` when an access point is used; a path that leaves the export is refused;
* ``transitEncryption: ENABLED`` and ``iam: ENABLED`` need the mapping to allow them
  (``transit_encryption: true``, ``iam: true``): minecs encrypts no NFS traffic and has no IAM, so
  only an operator who knows the route is encrypted may let such a task run; ``transitEncryptionPort``
  is not used (the route is the operator's, not a tunnel minecs starts);
* the NFS mount is read-write, as ECS mounts EFS, unless no container of the task mounts the volume
  writable: then it is mounted ``ro`` as well (nothing in the task could write through it anyway).
"""

from __future__ import annotations

import posixpath

from minecs.errors import ClientError
from minecs.model.efs import EfsVolumeConfiguration, NfsMount
from minecs.model.taskdef import TaskDefinitionSpec
from minecs.settings import EfsFileSystem, EfsSettings

SETTING = "controller.efs.file_systems"


def nfs_volumes(definition: TaskDefinitionSpec, settings: EfsSettings) -> dict[str, NfsMount]:
    """Each EFS volume of ``definition`` by name, as an NFS mount; ClientError if one cannot be."""
    return {
        volume.name or "": resolve(
            volume.name or "",
            volume.efs_volume_configuration,
            settings,
            read_only=mounted_read_only(definition, volume.name or ""),
        )
        for volume in definition.volumes
        if volume.efs_volume_configuration is not None
    }


def resolve(name: str, efs: EfsVolumeConfiguration, settings: EfsSettings, *, read_only: bool) -> NfsMount:
    fs_id = efs.file_system_id
    mapped = settings.file_systems.get(fs_id)
    if mapped is None:
        raise ClientError(
            f"Volume '{name}': EFS file system {fs_id} is not mapped on this controller; "
            f"map it to an NFS server and export in {SETTING} (docs/operations.md)."
        )
    _check_allowed(name, efs, mapped)
    inner = _inner_directory(name, efs, mapped)
    return NfsMount(
        server=mapped.server,
        path=_under(name, mapped.export, inner),
        port=mapped.port,
        nfs_version=mapped.nfs_version,
        options=tuple(o.strip() for o in mapped.options.split(",") if o.strip()),
        read_only=read_only,
    )


def _check_allowed(name: str, efs: EfsVolumeConfiguration, mapped: EfsFileSystem) -> None:
    where = f"{SETTING}.{efs.file_system_id}"
    if efs.encrypted and not mapped.transit_encryption:
        raise ClientError(
            f"Volume '{name}': transitEncryption is ENABLED, but minecs does not encrypt NFS traffic. "
            f"Set transit_encryption: true in {where} only if the route to its server is encrypted "
            "already (a TLS tunnel, a VPN); or use transitEncryption DISABLED."
        )
    if efs.iam and not mapped.iam:
        raise ClientError(
            f"Volume '{name}': authorizationConfig.iam is ENABLED, but there is no IAM here to "
            f"authorize the mount. Set iam: true in {where} to mount it with the export's own access "
            "rules; or use iam DISABLED."
        )


def _inner_directory(name: str, efs: EfsVolumeConfiguration, mapped: EfsFileSystem) -> str:
    point_id = efs.access_point_id
    if not point_id:
        return efs.root_directory or "/"
    point = mapped.access_points.get(point_id)
    if point is None:
        raise ClientError(
            f"Volume '{name}': access point {point_id} of EFS file system {efs.file_system_id} is not "
            f"mapped; add it to {SETTING}.{efs.file_system_id}.access_points (docs/operations.md)."
        )
    return point.root


def _under(name: str, export: str, inner: str) -> str:
    """``inner`` joined under ``export``, refused if it climbs out of it (``rootDirectory: ../x``)."""
    path = posixpath.normpath(posixpath.join(export, inner.lstrip("/")))
    base = posixpath.normpath(export)
    if path != base and not path.startswith(base.rstrip("/") + "/"):
        raise ClientError(f"Volume '{name}': rootDirectory '{inner}' leads out of the export {export}.")
    return path


def mounted_read_only(definition: TaskDefinitionSpec, volume: str) -> bool:
    """No container mounts ``volume`` writable (volumesFrom passes on its source's mounts)."""
    return all(
        m.read_only
        for c in definition.container_definitions
        for m in c.mount_points
        if m.source_volume == volume
    )
