"""EFS volumes through the ECS API, with real boto3 and the aws CLI against the in-process controller:
registration accepts them, a launch maps them (RunTask, StartTask, a service) or is refused naming
the setting, and the resolved NFS mount travels in the agent's assignment."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from minecs.reconciler import reconcile_once
from minecs.settings import ControllerTuning, EfsAccessPoint, EfsFileSystem, EfsSettings
from tests.taskdefs import container, taskdef
from tests.unit.minecs.apiclient import Client
from tests.unit.minecs.botoclient import AwsCli, Ecs, add_instance

EFS = EfsSettings(
    {
        "fs-1234": EfsFileSystem(server="10.0.0.5", export="/srv/efs"),
        "fs-tls": EfsFileSystem(
            server="127.0.0.1",
            port=20490,
            transit_encryption=True,
            access_points={"fsap-1": EfsAccessPoint(root="/app")},
        ),
    }
)
UNMAPPED = (
    "Volume 'data': EFS file system fs-9999 is not mapped on this controller; map it to an NFS server "
    "and export in controller.efs.file_systems (docs/operations.md)."
)


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    """The control plane with two EFS file systems mapped (this module's ``server`` and ``ecs`` use it)."""
    opened = await ControlPlane.open(tmp_path, Identity(), ControllerTuning(efs=EFS))
    yield opened
    await opened.close()


def efs_family(family: str, efs: dict[str, Any], *, read_only: bool = False) -> dict[str, Any]:
    mount = {"sourceVolume": "data", "containerPath": "/data", "readOnly": read_only}
    return taskdef(
        container(mountPoints=[mount]),
        family=family,
        volumes=[{"name": "data", "efsVolumeConfiguration": efs}],
    )


async def test_registration_accepts_an_efs_volume_and_echoes_it(ecs: Ecs) -> None:
    efs = {
        "fileSystemId": "fs-9999",
        "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-1", "iam": "ENABLED"},
    }
    registered = (await ecs("register_task_definition", **efs_family("shared", efs)))["taskDefinition"]
    assert registered["volumes"] == [{"name": "data", "efsVolumeConfiguration": efs}]
    code, message, status = await ecs.error(
        "register_task_definition",
        **efs_family("bad", {"fileSystemId": "fs-1234", "authorizationConfig": {"accessPointId": "fsap-1"}}),
    )
    assert (code, status) == ("ClientException", 400)
    assert "transitEncryption must be ENABLED when authorizationConfig.accessPointId is set." in message


async def test_run_task_refuses_an_unmapped_file_system_naming_the_setting(
    ecs: Ecs, plane: ControlPlane
) -> None:
    await ecs("register_task_definition", **efs_family("lost", {"fileSystemId": "fs-9999"}))
    assert await ecs.error("run_task", taskDefinition="lost") == ("ClientException", UNMAPPED, 400)
    instance = await add_instance(plane)
    refused = await ecs.error("start_task", taskDefinition="lost", containerInstances=[instance])
    assert refused == ("ClientException", UNMAPPED, 400)
    assert await plane.tasks.in_cluster("default") == []  # nothing was stored


async def test_transit_encryption_needs_a_mapping_that_allows_it(ecs: Ecs, plane: ControlPlane) -> None:
    await ecs(
        "register_task_definition",
        **efs_family("tls", {"fileSystemId": "fs-1234", "transitEncryption": "ENABLED"}),
    )
    code, message, _ = await ecs.error("run_task", taskDefinition="tls")
    assert code == "ClientException"
    assert message.startswith(
        "Volume 'data': transitEncryption is ENABLED, but minecs does not encrypt NFS traffic."
    )
    assert "transit_encryption: true in controller.efs.file_systems.fs-1234" in message
    await ecs(
        "register_task_definition",
        **efs_family("tls", {"fileSystemId": "fs-tls", "transitEncryption": "ENABLED"}),
    )
    assert (await ecs("run_task", taskDefinition="tls:2"))["tasks"]


async def test_a_mapped_volume_reaches_the_agent_as_an_nfs_mount(ecs: Ecs, plane: ControlPlane) -> None:
    instance = await add_instance(plane)
    efs = {"fileSystemId": "fs-1234", "rootDirectory": "/team"}
    await ecs("register_task_definition", **efs_family("mapped", efs, read_only=True))
    (task,) = (await ecs("run_task", taskDefinition="mapped"))["tasks"]
    assert "nfsVolumes" not in task  # minecs's bookkeeping, not an ECS member
    (described,) = (await ecs("describe_tasks", tasks=[task["taskArn"]]))["tasks"]
    assert "nfsVolumes" not in described
    (assigned,) = (await plane.tasks.assignments(instance)).tasks
    assert assigned["nfsVolumes"] == {
        "data": {
            "server": "10.0.0.5",
            "path": "/srv/efs/team",
            "port": None,
            "nfsVersion": "4.1",
            "options": [],
            "readOnly": True,
        }
    }


async def test_an_access_point_mounts_its_mapped_root_and_an_unmapped_one_is_refused(
    ecs: Ecs, plane: ControlPlane
) -> None:
    instance = await add_instance(plane)

    def through(point: str) -> dict[str, Any]:
        efs = {
            "fileSystemId": "fs-tls",
            "transitEncryption": "ENABLED",
            "authorizationConfig": {"accessPointId": point},
        }
        return efs_family("point", efs)

    await ecs("register_task_definition", **through("fsap-1"))
    await ecs("run_task", taskDefinition="point:1")
    (assigned,) = (await plane.tasks.assignments(instance)).tasks
    assert (assigned["nfsVolumes"]["data"]["path"], assigned["nfsVolumes"]["data"]["port"]) == ("/app", 20490)
    await ecs("register_task_definition", **through("fsap-2"))
    assert await ecs.error("run_task", taskDefinition="point:2") == (
        "ClientException",
        "Volume 'data': access point fsap-2 of EFS file system fs-tls is not mapped; add it to "
        "controller.efs.file_systems.fs-tls.access_points (docs/operations.md).",
        400,
    )


async def test_a_service_with_an_unmapped_file_system_says_so_in_its_events(
    ecs: Ecs, plane: ControlPlane
) -> None:
    await add_instance(plane)
    await ecs("register_task_definition", **efs_family("lost", {"fileSystemId": "fs-9999"}))
    await ecs("create_service", serviceName="svc", taskDefinition="lost", desiredCount=1)
    for _ in range(2):  # the reconciler goes on, and says it once
        await reconcile_once(plane)
    (service,) = (await ecs("describe_services", services=["svc"]))["services"]
    messages = [e["message"] for e in service["events"]]
    assert messages.count(f"(service svc) could not be reconciled: {UNMAPPED}") == 1
    assert service["runningCount"] == 0
    assert await plane.tasks.in_cluster("default") == []


async def aws(server: Client, *args: str) -> tuple[int, str, str]:
    """The aws CLI (``python -m awscli``) against the in-process controller, signed as the admin."""
    return await AwsCli(str(server.make_url("/"))).run(*args)


async def test_the_aws_cli_registers_runs_and_is_told_what_to_map(
    server: Client, plane: ControlPlane, tmp_path: Path
) -> None:
    spec = tmp_path / "td.json"
    spec.write_text(json.dumps(efs_family("cli", {"fileSystemId": "fs-9999", "rootDirectory": "/x"})))
    code, out, err = await aws(server, "register-task-definition", "--cli-input-json", f"file://{spec}")
    assert code == 0, err
    assert (
        json.loads(out)["taskDefinition"]["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"] == "fs-9999"
    )
    code, _, err = await aws(server, "run-task", "--task-definition", "cli")
    assert code != 0
    assert "(ClientException) when calling the RunTask operation" in err
    assert "fs-9999 is not mapped on this controller" in err
    assert "controller.efs.file_systems" in err
    spec.write_text(json.dumps(efs_family("cli", {"fileSystemId": "fs-1234"})))
    code, _, err = await aws(server, "register-task-definition", "--cli-input-json", f"file://{spec}")
    assert code == 0, err
    code, out, err = await aws(server, "run-task", "--task-definition", "cli:2")
    assert code == 0, err
    assert json.loads(out)["tasks"][0]["taskDefinitionArn"].endswith(":task-definition/cli:2")
