"""The data behind ``minecs.model.support``: what minecs does with each task definition member.

One entry per JSON path (``containerDefinitions[].healthCheck``, ``volumes[].efsVolumeConfiguration``,
``cpu``): its ``Support``, a note saying how (naming the module that acts on it) or why not, whether
the row stands for the whole struct, and a sample value: registration must refuse a refused
member's sample and accept any other (``tests/unit/minecs/test_support_table.py`` checks both).
Here are the row type and the task-level and volume rows; the container definition's rows are in
``minecs.model.supportcontainer``, and ``minecs.model.support`` joins all three into ``TABLE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import NamedTuple


class Support(StrEnum):
    HONOURED = "honoured"
    IGNORED = "accepted, ignored"
    REFUSED = "refused"


class Entry(NamedTuple):
    support: Support
    note: str
    whole: bool = False
    """The row stands for the member and every member nested in it."""
    sample: object = None
    """A JSON value for the member: refused at registration when REFUSED, accepted otherwise."""


def honoured(note: str, *, whole: bool = False, sample: object = None) -> Entry:
    return Entry(Support.HONOURED, note, whole, sample)


def ignored(note: str, *, whole: bool = False, sample: object = None) -> Entry:
    return Entry(Support.IGNORED, note, whole, sample)


def refused(note: str, *, sample: object) -> Entry:
    return Entry(Support.REFUSED, note, sample=sample)


_ROLE = "arn:aws:iam::000000000000:role/app"
_CLOUD_VOLUME = (
    "ClientException `Volume '<name>': {member} is not available on a minecs host. Use host.sourcePath "
    "or dockerVolumeConfiguration.` (`minecs/validation/task.py`). "
)

TASK: Mapping[str, Entry] = {
    "family": honoured(
        "Revisions are numbered per family (`minecs/controlplane/taskdefs.py`); it is part of every Docker "
        "name (`ecs-<family>-<revision>-...`) and of the `com.amazonaws.ecs.task-definition-family` label "
        "(`agent/provision/containerconfig.py`)."
    ),
    "containerDefinitions": honoured(
        "One Docker container each, see the container definition table. At most 10, names unique, at "
        "least one essential (`minecs/validation/containers.py`)."
    ),
    "taskRoleArn": ignored(
        "Needs AWS IAM. Containers get no task-role credentials (no `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`), "
        "so an AWS SDK in them falls back to its other credential sources. The `task-iam-role` attribute it "
        "requires is offered by every minecs agent.",
        sample=_ROLE,
    ),
    "executionRoleArn": ignored(
        "Needs AWS IAM, and nothing here would use it: images are pulled with the Docker Engine's own "
        "credentials and secrets come from the agent's local store (`agent/provision/secrets.py`).",
        sample=_ROLE,
    ),
    "networkMode": honoured(
        "bridge, host and none are Docker's network modes. awsvpc is emulated: a pause container per task "
        "holds the network namespace and the containers join it, so they share localhost; the task has the "
        "host's IP, so its ports are published through dynamic host ports (`agent/provision/resources.py`)."
    ),
    "volumes": honoured(
        "See the volume table. Names unique, every `mountPoints[].sourceVolume` declared "
        "(`minecs/validation/task.py`)."
    ),
    "placementConstraints": honoured(
        "memberOf constraints apply to every task of the definition, with RunTask's or the service's own, as "
        "in ECS (`minecs/controlplane/tasks.py`, `minecs/scheduling/placement.py`); a task no instance "
        "satisfies waits PENDING with the reason.",
        whole=True,
        sample=[{"type": "memberOf", "expression": "attribute:ecs.cpu-architecture == arm64"}],
    ),
    "requiresCompatibilities": honoured(
        "With FARGATE, registration applies Fargate's rules as ECS does: awsvpc, a task cpu/memory pair from "
        "Fargate's table, timeouts up to 120 s (`minecs/validation/task.py`). Tasks run on minecs hosts "
        "whatever it says; RunTask's and CreateService's launch type decides the rules they are held to "
        "(see Launch types and capacity providers, below)."
    ),
    "cpu": honoured(
        "CPU units or `1 vCPU`, normalised to units at registration. Placement reserves it instead of the "
        "containers' sum (`minecs/scheduling/needs.py`); the agent enforces it as a CFS quota on the task "
        "cgroup `/ecs/<task id>` (`agent/provision/cgroups.py`), except with the systemd cgroup driver (logged)."
    ),
    "memory": honoured(
        "MiB or `2 GB`, normalised to MiB at registration. Placement reserves it instead of the containers' "
        "sum (`minecs/scheduling/needs.py`); the agent enforces it as the task cgroup's memory limit "
        "(`agent/provision/cgroups.py`), except with the systemd cgroup driver (logged)."
    ),
    "tags": honoured(
        "ECS's tag rules are checked (`minecs/validation/task.py`); kept beside the definition and "
        "returned with `include: [TAGS]`, as ECS does (`minecs/api/ecs/taskdefs.py`).",
        whole=True,
    ),
    "pidMode": ignored(
        "Containers keep Docker's private PID namespace: `host` and `task` are not applied, so a sidecar "
        "that expects to see the task's (or the host's) processes does not.",
        sample="task",
    ),
    "ipcMode": ignored(
        "Containers keep the Docker daemon's default IPC mode: `host`, `task` and `none` are not applied.",
        sample="host",
    ),
    "proxyConfiguration": ignored(
        "App Mesh. Only ECS's registration check is made (every property has a value, "
        "`minecs/validation/task.py`); no traffic is redirected through the proxy, which sees only what "
        "is sent to it directly.",
        whole=True,
        sample={
            "containerName": "app",
            "type": "APPMESH",
            "properties": [{"name": "AppPorts", "value": "80"}],
        },
    ),
    "inferenceAccelerators": ignored(
        "Elastic Inference is an AWS device service; there is nothing to attach on a minecs host.",
        whole=True,
        sample=[{"deviceName": "device_1", "deviceType": "eia2.medium"}],
    ),
    "ephemeralStorage": ignored(
        "Fargate-only. Containers write to the Docker host's storage, with no per-task size.",
        whole=True,
        sample={"sizeInGiB": 30},
    ),
    "runtimePlatform": ignored(
        "Not matched against the host: placement does not compare it with the instance's "
        "`ecs.cpu-architecture` and `ecs.os-type` attributes, so an ARM64 or Windows definition can land on "
        "an x86-64 Linux host and fail to pull or start. Use a memberOf constraint in RunTask or the service.",
        whole=True,
        sample={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    ),
    "enableFaultInjection": ignored(
        "The minecs agent's metadata endpoint does not serve ECS's fault-injection paths.",
        sample=True,
    ),
    "trustedExecutionConfiguration": ignored(
        "Asks for a sandboxed or confidential runtime; the containers run with plain Docker isolation all "
        "the same.",
        whole=True,
        sample={"isolationMode": "ISOLATED_SANDBOX"},
    ),
}

VOLUME: Mapping[str, Entry] = {
    "name": honoured(
        "What mountPoints refer to; the exact name of a shared Docker volume, part of a task volume's name."
    ),
    "host": honoured(
        "With sourcePath, a bind mount of that host path (Docker creates it if missing; it outlives the "
        "task); without, a local Docker volume removed with the task (`agent/provision/resources.py`).",
        whole=True,
    ),
    "dockerVolumeConfiguration": honoured(
        "A Docker volume, per member below (`agent/provision/resources.py`)."
    ),
    "dockerVolumeConfiguration.scope": honoured(
        "task (the default): `ecs-<family>-<revision>-<name>-<hex>`, made for the task and removed at "
        "cleanup. shared: the volume named exactly, kept."
    ),
    "dockerVolumeConfiguration.autoprovision": honoured(
        "shared only: true creates a missing volume, otherwise a missing one fails the task (`... does not "
        "exist and autoprovision is set to false`); an existing one is used as it is."
    ),
    "dockerVolumeConfiguration.driver": honoured(
        "Docker volume driver (default local); its plugin must be installed on the host."
    ),
    "dockerVolumeConfiguration.driverOpts": honoured("Docker volume driver options."),
    "dockerVolumeConfiguration.labels": honoured("Docker volume labels, beside minecs's own."),
    "efsVolumeConfiguration": honoured(
        "An NFS mount. The controller maps the file system to an NFS server and export (setting "
        "`controller.efs.file_systems`, docs/operations.md) when a task is launched, and refuses RunTask, "
        "StartTask and a service's launch (told in its events) with ClientException `Volume '<name>': EFS "
        "file system <id> is not mapped on this controller; map it to an NFS server and export in "
        "controller.efs.file_systems` (`minecs/controlplane/efs.py`). Registration does not look for the "
        "file system, as in ECS. The agent makes a task-scoped Docker `local` volume of `type=nfs`, removed "
        "with the task (`agent/provision/resources.py`); read-write as ECS mounts EFS, and `ro` as well when every "
        "mountPoint of the volume is readOnly. Defaults are applied, not echoed.",
        sample={"fileSystemId": "fs-12345678"},
    ),
    "efsVolumeConfiguration.fileSystemId": honoured("The key into `controller.efs.file_systems`."),
    "efsVolumeConfiguration.rootDirectory": honoured(
        "Joined under the mapped export (default `/`); a path that leads out of the export is refused at "
        "launch. Omitted or `/` when an access point is used (ECS's rule, at registration).",
        sample="/app",
    ),
    "efsVolumeConfiguration.transitEncryption": honoured(
        "minecs encrypts no NFS traffic: ENABLED is refused at launch unless the mapping says "
        "`transit_encryption: true`, the operator's word that the route to the server is encrypted already "
        "(a TLS tunnel, a VPN). ENABLED is required with an access point or iam (ECS's rule, at registration).",
        sample="ENABLED",
    ),
    "efsVolumeConfiguration.transitEncryptionPort": ignored(
        "Not used: the encrypted route is the operator's (see transitEncryption), not a tunnel minecs starts "
        "on this port. 0-65535, as ECS requires.",
        sample=20049,
    ),
    "efsVolumeConfiguration.authorizationConfig": honoured("Per member below."),
    "efsVolumeConfiguration.authorizationConfig.accessPointId": honoured(
        "Looked up in the file system's `access_points` mapping; the mount is the access point's `root` "
        "under the export, and an access point not mapped is refused at launch. An EFS access point's POSIX "
        "user and creation info are not emulated: the NFS export's own rules apply."
    ),
    "efsVolumeConfiguration.authorizationConfig.iam": ignored(
        "There is no IAM to authorize the mount: ENABLED is refused at launch unless the mapping says "
        "`iam: true`, and then the export's own access rules are all that apply."
    ),
    "s3filesVolumeConfiguration": refused(
        _CLOUD_VOLUME.format(member="s3filesVolumeConfiguration") + "S3 Files is an AWS service.",
        sample={"fileSystemArn": "arn:aws:s3files:us-east-1:000000000000:file-system/fs-1"},
    ),
    "fsxWindowsFileServerVolumeConfiguration": refused(
        _CLOUD_VOLUME.format(member="fsxWindowsFileServerVolumeConfiguration")
        + "FSx is an AWS service for Windows containers.",
        sample={"fileSystemId": "fs-0123456789abcdef0", "rootDirectory": "share"},
    ),
    "configuredAtLaunch": refused(
        "ClientException `Volume '<name>': configuredAtLaunch is not available on a minecs host.` "
        "(`minecs/validation/task.py`): such a volume is an EBS volume given at RunTask or CreateService, "
        "which minecs does not have. false is accepted.",
        sample=True,
    ),
}
