"""EFS in a task definition, and the NFS mount a minecs controller resolves it to for the agent.

``EfsVolumeConfiguration`` is ECS's member for member (botocore's ``EFSVolumeConfiguration``:
``fileSystemId`` required, ``rootDirectory``, ``transitEncryption`` ENABLED|DISABLED,
``transitEncryptionPort``, ``authorizationConfig`` {``accessPointId``, ``iam`` ENABLED|DISABLED}).
Members are echoed as the user wrote them; ECS's defaults (rootDirectory ``/``, transitEncryption
and iam DISABLED) are applied where they are used, by ``minecs.controlplane.efs``.

There is no EFS on a minecs host. The controller maps a ``fileSystemId`` (and access point) to an
NFS server and export (setting ``controller.efs.file_systems``) and hands the agent an ``NfsMount``
in the task's assignment; the agent makes it a Docker ``local`` volume of ``type=nfs``.

Design decision: the mount is resolved once, when the task is created, and stored with the task, so
the mount the agent makes is the one RunTask checked, whatever the settings say later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from minecs.model.codec import REQUIRED

DEFAULT_NFS_VERSION = "4.1"
"""What the EFS mount helper mounts with (NFSv4.1)."""


class EfsTransitEncryption(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class EfsAuthorizationConfigIam(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class EfsAuthorizationConfig:
    access_point_id: str | None = None
    iam: EfsAuthorizationConfigIam | None = None


@dataclass(frozen=True)
class EfsVolumeConfiguration:
    file_system_id: str = field(default="", metadata=REQUIRED)
    root_directory: str | None = None
    transit_encryption: EfsTransitEncryption | None = None
    transit_encryption_port: int | None = None
    authorization_config: EfsAuthorizationConfig | None = None

    @property
    def access_point_id(self) -> str | None:
        return self.authorization_config.access_point_id if self.authorization_config else None

    @property
    def encrypted(self) -> bool:
        return self.transit_encryption is EfsTransitEncryption.ENABLED

    @property
    def iam(self) -> bool:
        config = self.authorization_config
        return config is not None and config.iam is EfsAuthorizationConfigIam.ENABLED


@dataclass(frozen=True)
class NfsMount:
    """One task volume as an NFS mount: ``server:path`` with these options (what the agent mounts)."""

    server: str
    path: str
    port: int | None = None
    nfs_version: str = DEFAULT_NFS_VERSION
    options: tuple[str, ...] = ()
    read_only: bool = False


def nfs_to_json(mount: NfsMount) -> dict[str, Any]:
    return {
        "server": mount.server,
        "path": mount.path,
        "port": mount.port,
        "nfsVersion": mount.nfs_version,
        "options": list(mount.options),
        "readOnly": mount.read_only,
    }


def nfs_from_json(data: Mapping[str, Any]) -> NfsMount:
    return NfsMount(
        server=data["server"],
        path=data["path"],
        port=data.get("port"),
        nfs_version=data.get("nfsVersion", DEFAULT_NFS_VERSION),
        options=tuple(data.get("options") or ()),
        read_only=bool(data.get("readOnly")),
    )
