"""ECS's registration rules for an EFS volume (``volumes[].efsVolumeConfiguration``).

Registration does not look for the file system (neither does ECS); whether a ``fileSystemId`` is
mapped to an NFS server is checked when a task is launched (``minecs.controlplane.efs``). The rules,
as the ECS API reference states them:

* ``EFSAuthorizationConfig.accessPointId``: "If an access point is specified, the root directory
  value specified in the EFSVolumeConfiguration must either be omitted or set to / which will
  enforce the path set on the EFS access point. If an access point is used, transit encryption
  must be on in the EFSVolumeConfiguration."
* ``EFSAuthorizationConfig.iam``: "If it is turned on, transit encryption must be turned on in the
  EFSVolumeConfiguration."
* ``transitEncryptionPort``: "The value must be between 0 and 65,535."

ECS documents no wording for these refusals; the messages are ours and name the member.
"""

from __future__ import annotations

from minecs.model.efs import EfsVolumeConfiguration
from minecs.validation.report import Report

MAX_PORT = 65535


def check_efs(path: str, volume_name: str | None, efs: EfsVolumeConfiguration, report: Report) -> None:
    """Every rule ``efs`` breaks, reported under ``path`` (``volumes[N].efsVolumeConfiguration``)."""
    where = f"Volume '{volume_name}'"
    if efs.access_point_id and efs.root_directory not in (None, "/"):
        report.add(
            f"{path}.rootDirectory",
            f"{where}: rootDirectory must be omitted or '/' when an access point is used "
            "(the access point sets the directory).",
        )
    if efs.access_point_id and not efs.encrypted:
        report.add(
            f"{path}.transitEncryption",
            f"{where}: transitEncryption must be ENABLED when authorizationConfig.accessPointId is set.",
        )
    if efs.iam and not efs.encrypted:
        report.add(
            f"{path}.transitEncryption",
            f"{where}: transitEncryption must be ENABLED when authorizationConfig.iam is ENABLED.",
        )
    port = efs.transit_encryption_port
    if port is not None and not 0 <= port <= MAX_PORT:
        report.add(
            f"{path}.transitEncryptionPort",
            f"{where}: transitEncryptionPort must be between 0 and {MAX_PORT}.",
        )
