"""The kernel readers on fixture trees laid out as cgroup v1 (this machine) and v2 (current distros)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.insights import kernelstats
from agent.insights.kernelstats import Interface

CONTAINER = "/docker/1944be8aea80d25f417c485befa642fabb5b2c14864db1e85ee5c17ffb125ad7"
V1_PROC_CGROUP = f"""9:name=systemd:{CONTAINER}
8:pids:{CONTAINER}
7:blkio:{CONTAINER}
4:memory:{CONTAINER}
2:cpuacct:{CONTAINER}
1:cpu:{CONTAINER}
0::{CONTAINER}
"""
V1_MEMORY_STAT = """cache 22679552
rss 49152
inactive_file 20488192
hierarchical_memory_limit 9223372036854771712
total_cache 22675456
total_rss 49152
total_inactive_file 20488192
"""
V1_BLKIO = """8:0 Read 4096
8:0 Write 12288
8:0 Sync 16384
8:0 Async 0
8:0 Total 16384
8:16 Read 1000
8:16 Write 0
Total 17384
"""
V2_PROC_CGROUP = "0::/system.slice/docker-5f1c.scope\n"
V2_CPU_STAT = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n"
V2_MEMORY_STAT = "anon 1048576\nfile 8388608\nactive_file 4194304\ninactive_file 3145728\n"
V2_IO_STAT = (
    "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=100 wbytes=0 rios=1 wios=0\n"
)
NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0       0          0
  eth0:  123456     100    1    2    0     0          0         0    65432      50    3    4    0     0       0          0
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def v1(tmp_path: Path) -> tuple[Path, Path]:
    cgroup, proc = tmp_path / "cgroup", tmp_path / "proc"
    write(proc, {"42/cgroup": V1_PROC_CGROUP, "42/net/dev": NET_DEV})
    write(
        cgroup,
        {
            f"cpuacct{CONTAINER}/cpuacct.usage": "51286870000\n",
            f"memory{CONTAINER}/memory.usage_in_bytes": "24023040\n",
            f"memory{CONTAINER}/memory.limit_in_bytes": "9223372036854771712\n",
            f"memory{CONTAINER}/memory.stat": V1_MEMORY_STAT,
            f"blkio{CONTAINER}/blkio.throttle.io_service_bytes_recursive": V1_BLKIO,
            f"blkio{CONTAINER}/blkio.io_service_bytes_recursive": "Total 0\n",
        },
    )
    (cgroup / "cpu").mkdir()
    return cgroup, proc


@pytest.fixture
def v2(tmp_path: Path) -> tuple[Path, Path]:
    cgroup, proc = tmp_path / "cgroup", tmp_path / "proc"
    scope = "system.slice/docker-5f1c.scope"
    write(proc, {"7/cgroup": V2_PROC_CGROUP})
    write(
        cgroup,
        {
            f"{scope}/cpu.stat": V2_CPU_STAT,
            f"{scope}/memory.current": "10485760\n",
            f"{scope}/memory.max": "67108864\n",
            f"{scope}/memory.stat": V2_MEMORY_STAT,
            f"{scope}/io.stat": V2_IO_STAT,
        },
    )
    return cgroup, proc


def test_cgroup_v1_cpu_memory_and_block_io(v1: tuple[Path, Path]) -> None:
    cgroup, proc = v1
    dirs = kernelstats.locate(42, cgroup, proc)
    assert (dirs.version, dirs.cpu, dirs.memory) == (
        1,
        cgroup / "cpuacct" / CONTAINER.lstrip("/"),
        cgroup / "memory" / CONTAINER.lstrip("/"),
    )
    assert kernelstats.cpu_seconds(dirs) == pytest.approx(51.28687)
    memory = kernelstats.memory(dirs)
    # usage - total_cache, as the ECS agent computes MemoryUtilized on v1; no limit set.
    assert (memory.usage, memory.utilized, memory.limit) == (24023040, 24023040 - 22675456, None)
    # The plain file holds only "Total 0", so the throttle file's counters are used (as runc does).
    assert kernelstats.storage_bytes(dirs) == (4096 + 1000, 12288)


def test_cgroup_v2_cpu_memory_and_block_io(v2: tuple[Path, Path]) -> None:
    cgroup, proc = v2
    dirs = kernelstats.locate(7, cgroup, proc)
    assert (dirs.version, dirs.memory) == (2, cgroup / "system.slice/docker-5f1c.scope")
    assert kernelstats.cpu_seconds(dirs) == 2.5
    assert kernelstats.memory(dirs) == kernelstats.Memory(10485760, 10485760 - 3145728, 67108864)
    assert kernelstats.storage_bytes(dirs) == (4196, 8192)
    (cgroup / "system.slice/docker-5f1c.scope/memory.max").write_text("max\n")
    assert kernelstats.memory(dirs).limit is None


def test_a_comounted_cpu_cpuacct_hierarchy_is_found(tmp_path: Path) -> None:
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    write(proc, {"9/cgroup": "3:cpu,cpuacct:/ecs/abc/def\n2:memory:/ecs/abc/def\n"})
    (cgroup / "cpu,cpuacct").mkdir(parents=True)
    assert kernelstats.locate(9, cgroup, proc).cpu == cgroup / "cpu,cpuacct/ecs/abc/def"


def test_network_counters_skip_loopback_and_name_the_namespace(v1: tuple[Path, Path]) -> None:
    _, proc = v1
    (proc / "42" / "ns").mkdir()
    os.symlink(proc / "42" / "net" / "dev", proc / "42" / "ns" / "net")
    namespace, interfaces = kernelstats.network(42, proc)
    assert namespace == os.stat(proc / "42" / "net" / "dev").st_ino
    assert interfaces == {"eth0": Interface(123456, 100, 1, 2, 65432, 50, 3, 4)}


def test_a_vanished_process_is_an_os_error(v1: tuple[Path, Path]) -> None:
    cgroup, proc = v1
    with pytest.raises(FileNotFoundError):
        kernelstats.locate(4242, cgroup, proc)
    with pytest.raises(FileNotFoundError):
        kernelstats.network(4242, proc)
