"""EFS volumes: ECS's registration rules, the ``controller.efs.file_systems`` setting, and how a
volume resolves to the NFS mount the agent makes (or why the launch is refused)."""

from __future__ import annotations

from typing import Any

import pytest

from minecs.controlplane.efs import SETTING, mounted_read_only, nfs_volumes
from minecs.errors import ClientError
from minecs.model.codec import encode
from minecs.model.efs import EfsTransitEncryption, NfsMount, nfs_from_json, nfs_to_json
from minecs.settings import EfsAccessPoint, EfsFileSystem, EfsSettings
from tests.taskdefs import container, problems, taskdef, valid

CE = "ClientException"
MAPPED = EfsSettings(
    {
        "fs-1": EfsFileSystem(
            server="10.0.0.5",
            export="/srv/efs",
            options="hard, timeo=600",
            access_points={"fsap-1": EfsAccessPoint(root="/app")},
        ),
        "fs-tls": EfsFileSystem(server="127.0.0.1", port=20490, transit_encryption=True, iam=True),
    }
)


def efs_task(efs: dict[str, Any], *, read_only: bool | None = None) -> dict[str, Any]:
    mount: dict[str, Any] = {"sourceVolume": "data", "containerPath": "/data"}
    if read_only is not None:
        mount["readOnly"] = read_only
    return taskdef(container(mountPoints=[mount]), volumes=[{"name": "data", "efsVolumeConfiguration": efs}])


# ---------------------------------------------------------------------------- registration


def test_an_efs_volume_registers_as_written_with_its_members_typed() -> None:
    written = {
        "fileSystemId": "fs-1",
        "rootDirectory": "/",
        "transitEncryption": "ENABLED",
        "transitEncryptionPort": 20049,
        "authorizationConfig": {"accessPointId": "fsap-1", "iam": "ENABLED"},
    }
    spec = valid(efs_task(written))
    efs = spec.volumes[0].efs_volume_configuration
    assert efs is not None
    assert efs.transit_encryption is EfsTransitEncryption.ENABLED
    assert (efs.access_point_id, efs.iam, efs.encrypted) == ("fsap-1", True, True)
    assert encode(spec)["volumes"][0]["efsVolumeConfiguration"] == written  # echoed, nothing added


def test_registration_does_not_look_for_the_file_system() -> None:
    assert problems(efs_task({"fileSystemId": "fs-nobody-has"})) == []


def test_file_system_id_is_required_and_enums_are_ecs_own() -> None:
    assert problems(efs_task({"transitEncryption": "YES"})) == [
        (
            CE,
            "volumes[0].efsVolumeConfiguration.fileSystemId",
            'Missing required parameter in volumes[0].efsVolumeConfiguration: "fileSystemId"',
        ),
        (
            CE,
            "volumes[0].efsVolumeConfiguration.transitEncryption",
            "Value 'YES' at 'volumes[0].efsVolumeConfiguration.transitEncryption' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
        ),
    ]


@pytest.mark.parametrize(
    ("efs", "member", "message"),
    [
        (
            {"fileSystemId": "fs-1", "authorizationConfig": {"accessPointId": "fsap-1"}},
            "transitEncryption",
            "transitEncryption must be ENABLED when authorizationConfig.accessPointId is set.",
        ),
        (
            {
                "fileSystemId": "fs-1",
                "authorizationConfig": {"iam": "ENABLED"},
                "transitEncryption": "DISABLED",
            },
            "transitEncryption",
            "transitEncryption must be ENABLED when authorizationConfig.iam is ENABLED.",
        ),
        (
            {
                "fileSystemId": "fs-1",
                "rootDirectory": "/data",
                "transitEncryption": "ENABLED",
                "authorizationConfig": {"accessPointId": "fsap-1"},
            },
            "rootDirectory",
            "rootDirectory must be omitted or '/' when an access point is used (the access point sets the directory).",
        ),
        (
            {"fileSystemId": "fs-1", "transitEncryptionPort": 65536},
            "transitEncryptionPort",
            "transitEncryptionPort must be between 0 and 65535.",
        ),
    ],
)
def test_ecs_rules_for_access_points_iam_and_ports(efs: dict[str, Any], member: str, message: str) -> None:
    assert problems(efs_task(efs)) == [
        (CE, f"volumes[0].efsVolumeConfiguration.{member}", f"Volume 'data': {message}")
    ]


def test_an_access_point_with_root_slash_and_encryption_is_valid() -> None:
    efs = {
        "fileSystemId": "fs-1",
        "rootDirectory": "/",
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-1", "iam": "DISABLED"},
    }
    assert problems(efs_task(efs)) == []


# ---------------------------------------------------------------------------- resolution


def resolved(efs: dict[str, Any], *, read_only: bool | None = None) -> NfsMount:
    return nfs_volumes(valid(efs_task(efs, read_only=read_only)), MAPPED)["data"]


def test_root_directory_is_joined_under_the_export() -> None:
    assert resolved({"fileSystemId": "fs-1", "rootDirectory": "/team/a/"}) == NfsMount(
        server="10.0.0.5", path="/srv/efs/team/a", options=("hard", "timeo=600")
    )
    assert resolved({"fileSystemId": "fs-1"}).path == "/srv/efs"  # ECS's default root, /
    assert resolved({"fileSystemId": "fs-1", "rootDirectory": "relative/x"}).path == "/srv/efs/relative/x"


def test_an_access_point_mounts_its_root_under_the_export() -> None:
    mount = resolved(
        {"fileSystemId": "fs-1", "transitEncryption": "DISABLED", "authorizationConfig": {}}
    )  # no access point: the export itself
    assert mount.path == "/srv/efs"
    tls = {
        "fileSystemId": "fs-tls",
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"iam": "ENABLED"},
    }
    assert resolved(tls) == NfsMount(server="127.0.0.1", path="/", port=20490)


def test_a_mapped_access_point_resolves_and_an_unmapped_one_names_the_setting() -> None:
    settings_with_tls = EfsSettings(
        {
            "fs-1": EfsFileSystem(
                server="h",
                export="/e",
                transit_encryption=True,
                access_points=MAPPED.file_systems["fs-1"].access_points,
            )
        }
    )
    efs = {
        "fileSystemId": "fs-1",
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-1"},
    }
    spec = valid(efs_task(efs))
    assert nfs_volumes(spec, settings_with_tls)["data"].path == "/e/app"
    efs["authorizationConfig"] = {"accessPointId": "fsap-9"}
    with pytest.raises(ClientError) as raised:
        nfs_volumes(valid(efs_task(efs)), settings_with_tls)
    assert raised.value.message == (
        "Volume 'data': access point fsap-9 of EFS file system fs-1 is not mapped; add it to "
        f"{SETTING}.fs-1.access_points (docs/operations.md)."
    )


def test_an_unmapped_file_system_is_refused_naming_the_setting() -> None:
    with pytest.raises(ClientError) as raised:
        resolved({"fileSystemId": "fs-404"})
    assert raised.value.code == "ClientException"
    assert raised.value.message == (
        "Volume 'data': EFS file system fs-404 is not mapped on this controller; map it to an NFS server "
        "and export in controller.efs.file_systems (docs/operations.md)."
    )


@pytest.mark.parametrize(
    ("efs", "fragment"),
    [
        (
            {"fileSystemId": "fs-1", "transitEncryption": "ENABLED"},
            "transit_encryption: true in controller.efs.file_systems.fs-1",
        ),
        (
            {
                "fileSystemId": "fs-1",
                "transitEncryption": "ENABLED",
                "authorizationConfig": {"iam": "ENABLED"},
            },
            "transit_encryption: true",
        ),
        (
            {"fileSystemId": "fs-1", "rootDirectory": "../../etc"},
            "rootDirectory '../../etc' leads out of the export /srv/efs",
        ),
    ],
)
def test_what_the_mapping_does_not_allow_is_refused_with_the_reason(
    efs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as raised:
        resolved(efs)
    assert fragment in raised.value.message


def test_iam_needs_the_mapping_to_accept_it() -> None:
    only_tls = EfsSettings({"fs-1": EfsFileSystem(server="h", transit_encryption=True)})
    efs = {"fileSystemId": "fs-1", "transitEncryption": "ENABLED", "authorizationConfig": {"iam": "ENABLED"}}
    with pytest.raises(ClientError) as raised:
        nfs_volumes(valid(efs_task(efs)), only_tls)
    assert "Set iam: true in controller.efs.file_systems.fs-1" in raised.value.message


def test_the_mount_is_read_only_only_when_no_container_writes_through_it() -> None:
    assert not resolved({"fileSystemId": "fs-1"}).read_only  # ECS mounts EFS read-write
    assert not resolved({"fileSystemId": "fs-1"}, read_only=False).read_only
    assert resolved({"fileSystemId": "fs-1"}, read_only=True).read_only
    two = valid(
        taskdef(
            container("a", mountPoints=[{"sourceVolume": "data", "containerPath": "/d", "readOnly": True}]),
            container("b", mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}]),
            volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}],
        )
    )
    assert not mounted_read_only(two, "data")


def test_a_definition_without_efs_needs_no_mapping_and_the_json_form_round_trips() -> None:
    assert nfs_volumes(valid(taskdef()), EfsSettings()) == {}
    mount = NfsMount("h", "/p", port=1, nfs_version="4.2", options=("hard",), read_only=True)
    assert nfs_from_json(nfs_to_json(mount)) == mount
