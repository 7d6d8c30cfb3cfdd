"""Task cgroups on fixture hierarchies (v1 and v2), and the documented fallbacks."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from agent.provision.cgroups import TaskLimits, create_task_cgroup, remove_task_cgroup


async def test_cgroup_v1_limits(tmp_path: Path) -> None:
    for controller in ("memory", "cpu", "blkio"):
        (tmp_path / controller).mkdir()
    parent = await create_task_cgroup(
        "t1", TaskLimits(cpu_units=512, memory_mib=256), cgroup_driver="cgroupfs", root=tmp_path
    )
    assert parent == "/ecs/t1"
    assert (tmp_path / "memory/ecs/t1/memory.limit_in_bytes").read_text() == str(256 * 1024 * 1024)
    assert (tmp_path / "cpu/ecs/t1/cpu.cfs_quota_us").read_text() == "50000"
    assert (tmp_path / "cpu/ecs/t1/cpu.cfs_period_us").read_text() == "100000"
    (tmp_path / "blkio/ecs/t1/container-id").mkdir(parents=True)  # what the runtime leaves behind
    # On cgroupfs the control files go with their directory; a plain fixture directory needs help.
    for control in tmp_path.glob("*/ecs/t1/*.*"):
        control.unlink()
    await remove_task_cgroup("t1", root=tmp_path)
    assert not (tmp_path / "memory/ecs/t1").exists()
    assert not (tmp_path / "blkio/ecs/t1").exists()


async def test_cgroup_v2_limits(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory")
    parent = await create_task_cgroup(
        "t2", TaskLimits(cpu_units=2048, memory_mib=None), cgroup_driver="cgroupfs", root=tmp_path
    )
    assert parent == "/ecs/t2"
    assert (tmp_path / "ecs/t2/cpu.max").read_text() == "200000 100000"
    assert not (tmp_path / "ecs/t2/memory.max").exists()
    assert (tmp_path / "ecs/cgroup.subtree_control").read_text() == "+cpu +memory"


async def test_no_task_limits_means_no_cgroup(tmp_path: Path) -> None:
    assert (
        await create_task_cgroup("t3", TaskLimits(None, None), cgroup_driver="cgroupfs", root=tmp_path)
        is None
    )
    assert not (tmp_path / "ecs").exists()


async def test_systemd_driver_and_unwritable_hierarchies_fall_back_with_a_warning(tmp_path: Path) -> None:
    with capture_logs() as logged:
        assert (
            await create_task_cgroup("t4", TaskLimits(256, 128), cgroup_driver="systemd", root=tmp_path)
            is None
        )
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        assert (
            await create_task_cgroup("t5", TaskLimits(256, 128), cgroup_driver="cgroupfs", root=blocker)
            is None
        )
    reasons = [e["reason"] for e in logged if e["event"] == "task cgroup not enforced"]
    assert reasons[0] == "cgroup driver is systemd"
    assert "Not a directory" in reasons[1]
