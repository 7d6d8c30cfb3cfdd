"""EFS volumes on the agent: the NFS mount from the assignment becomes a task-scoped ``local`` Docker
volume of ``type=nfs``, labelled like the other task volumes and removed with the task."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from agent.provision.resources import InstanceFacts, nfs_driver_opts
from agent.runtime.fake import FakeDriver
from agent.tasks.engine import Engine
from agent.tasks.records import reason, start_failure
from minecs.model.efs import NfsMount
from minecs.model.registered import register
from minecs.model.task import DesiredStatus, StopCode, TaskAssignment
from minecs.model.wire import assignment_from_json, assignment_to_json
from minecs.settings import EngineSettings, PullBehavior
from minecs.validation import parse_task_definition
from tests.conftest import wait_until
from tests.snapshots import is_running, is_stopped

IMAGE = "minecs/busybox:latest"
MOUNT = NfsMount(server="10.0.0.5", path="/srv/efs/app", options=("hard", "timeo=600"))


def efs_task(mounts: dict[str, NfsMount]) -> TaskAssignment:
    spec = parse_task_definition(
        {
            "family": "f",
            "containerDefinitions": [
                {
                    "name": "app",
                    "image": IMAGE,
                    "memory": 16,
                    "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}],
        }
    )
    td = register(
        spec, arn="arn:aws:ecs:r:1:task-definition/f:1", revision=1, registered_at=datetime.now(UTC)
    )
    return TaskAssignment(
        task_arn="arn:aws:ecs:r:1:task/default/t1", cluster="default", definition=td, nfs_volumes=mounts
    )


@pytest.mark.parametrize(
    ("mount", "options"),
    [
        (MOUNT, "addr=10.0.0.5,nfsvers=4.1,hard,timeo=600"),
        (
            NfsMount("nfs.lan", "/", port=20490, nfs_version="4.2", read_only=True),
            "addr=nfs.lan,nfsvers=4.2,port=20490,ro",
        ),
    ],
)
def test_the_local_driver_options_of_an_nfs_mount(mount: NfsMount, options: str) -> None:
    assert nfs_driver_opts(mount) == {"type": "nfs", "o": options, "device": f":{mount.path}"}


def test_the_mounts_travel_in_the_assignment_and_back() -> None:
    sent = efs_task({"data": MOUNT})
    body = assignment_to_json(sent)
    assert body["nfsVolumes"]["data"]["server"] == "10.0.0.5"
    assert assignment_from_json(body) == sent
    assert "nfsVolumes" not in assignment_to_json(efs_task({}))  # others' assignments are unchanged


def settings() -> EngineSettings:
    return EngineSettings(resync_interval=0.05, pull_behavior=PullBehavior.PREFER_CACHED, cleanup_wait=0.05)


FACTS = InstanceFacts("fake", "127.0.0.1", {"minecs.test": "1"})


async def test_the_task_gets_an_nfs_volume_that_is_removed_with_it() -> None:
    fake = FakeDriver(images={IMAGE})
    t = efs_task({"data": MOUNT})
    async with Engine(fake, settings(), FACTS).running() as engine:
        engine.apply(t)
        await engine.wait_for(t.task_arn, is_running, within=5)
        ((name, volume),) = fake.volumes.items()
        assert name.startswith("ecs-f-1-data-")
        assert volume == {
            "driver": "local",
            "driver_opts": nfs_driver_opts(MOUNT),
            "labels": {"minecs.task-id": "t1", "minecs.instance-id": "fake", "minecs.test": "1"},
        }
        engine.apply(dataclasses.replace(t, desired_status=DesiredStatus.STOPPED))
        await engine.wait_for(t.task_arn, is_stopped, within=5)
        await wait_until(_volumes_of(fake), lambda volumes: not volumes, within=5)


def _volumes_of(fake: FakeDriver) -> Callable[[], Awaitable[dict[str, object]]]:
    async def observe() -> dict[str, object]:
        return dict(fake.volumes)

    return observe


async def test_an_efs_volume_without_its_mount_fails_the_task_to_start() -> None:
    fake = FakeDriver(images={IMAGE})
    t = efs_task({})
    async with Engine(fake, settings(), FACTS).running() as engine:
        engine.apply(t)
        done = await engine.wait_for(t.task_arn, is_stopped, within=5)
    assert done.stop_code is StopCode.TASK_FAILED_TO_START
    assert done.stopped_reason == (
        "ResourceInitializationError: volume 'data': the controller sent no NFS mount for this EFS volume"
    )


def test_a_failed_mount_keeps_its_cause_within_ecs_reason_limit() -> None:
    path = "/var/lib/docker/volumes/ecs-efs-1-data-c9fc720c4fe8ce474f28/_data"
    docker_says = (
        f"start container {'e' * 64}: error while mounting volume '{path}': failed to mount local volume: "
        f"mount :/exports/app:{path}, flags: 0x1, data: addr=127.0.0.1,nfsvers=4.1,port=20490,soft: no such device"
    )
    assert len(reason("CannotStartContainerError", docker_says)) == 255  # the cause would be cut off
    assert reason("CannotStartContainerError", start_failure(docker_says)) == (
        "CannotStartContainerError: cannot mount volume ecs-efs-1-data-c9fc720c4fe8ce474f28 "
        "(:/exports/app, addr=127.0.0.1,nfsvers=4.1,port=20490,soft): no such device"
    )
    assert start_failure("start container x: exec format error") == "start container x: exec format error"
