"""A container's CPU, memory, block IO and network counters, read from the kernel (docs/metrics.md).

The Docker stats API costs about 130 ms per container through dockerd; the same numbers are in
files the kernel keeps, which cost microseconds. Given a container's pid, ``locate`` finds its
cgroup from ``/proc/<pid>/cgroup`` (so the cgroupfs and systemd drivers, minecs's per-task cgroup
parents, cgroup v1, v2 and the hybrid layout all work), and the readers parse:

* CPU: v1 ``cpuacct.usage`` (ns); v2 ``cpu.stat`` ``usage_usec``;
* memory: v1 ``memory.usage_in_bytes``, ``memory.stat`` ``total_cache``, ``memory.limit_in_bytes``;
  v2 ``memory.current``, ``memory.stat`` ``inactive_file``, ``memory.max``. Utilized memory is
  ``usage - cache`` on v1, as the ECS agent computes Container Insights' MemoryUtilized (docker
  stats and cAdvisor subtract ``total_inactive_file`` instead), and ``usage - inactive_file`` on v2;
* block IO: v1 ``blkio.io_service_bytes_recursive`` (the throttle file when that one is missing or
  empty, as runc does), ``Read``/``Write`` summed over devices; v2 ``io.stat`` ``rbytes``/``wbytes``;
* network: ``/proc/<pid>/net/dev`` (the container's namespace), every interface but ``lo``.

Everything here is synchronous file reading: callers run it in a worker thread. The parsers are pure
functions of the files' text, unit-tested on fixtures of both layouts. A missing file (the container
exited between listing and reading) is ``OSError``, for the caller to count and skip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
UNLIMITED = 1 << 62
"""cgroup v1 writes "no limit" as a page-rounded 2^63 - 1; anything this large means none."""


@dataclass(frozen=True)
class CgroupDirs:
    version: int
    cpu: Path
    memory: Path
    blkio: Path


@dataclass(frozen=True)
class Memory:
    usage: int
    utilized: int
    limit: int | None


@dataclass(frozen=True)
class Interface:
    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_dropped: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_dropped: int


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """``/proc/<pid>/cgroup`` → controller → path; the v2 (unified) entry is under ``""``."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def locate(pid: int, root: Path = CGROUP_ROOT, proc: Path = PROC) -> CgroupDirs:
    """The cgroup directories of process ``pid``: v1 when the memory controller is on v1, else v2."""
    paths = parse_proc_cgroup(_text(proc / str(pid) / "cgroup"))
    if "memory" in paths:
        return CgroupDirs(
            version=1,
            cpu=_v1_dir(root, ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"), paths["cpuacct"]),
            memory=root / "memory" / paths["memory"].lstrip("/"),
            blkio=_v1_dir(root, ("blkio",), paths.get("blkio", paths["memory"])),
        )
    unified = root / paths[""].lstrip("/")
    return CgroupDirs(version=2, cpu=unified, memory=unified, blkio=unified)


def _v1_dir(root: Path, mounts: tuple[str, ...], path: str) -> Path:
    for mount in mounts:
        if (root / mount).is_dir():
            return root / mount / path.lstrip("/")
    return root / mounts[0] / path.lstrip("/")


# ------------------------------------------------------------------------------------------- readers
def cpu_seconds(dirs: CgroupDirs) -> float:
    if dirs.version == 1:
        return int(_text(dirs.cpu / "cpuacct.usage")) / 1e9
    return parse_flat_keyed(_text(dirs.cpu / "cpu.stat"))["usage_usec"] / 1e6


def memory(dirs: CgroupDirs) -> Memory:
    stat = parse_flat_keyed(_text(dirs.memory / "memory.stat"))
    if dirs.version == 1:
        usage = int(_text(dirs.memory / "memory.usage_in_bytes"))
        cache = stat.get("total_cache", stat.get("cache", 0))
        hard = int(_text(dirs.memory / "memory.limit_in_bytes"))
        return Memory(usage, max(usage - cache, 0), None if hard >= UNLIMITED else hard)
    usage = int(_text(dirs.memory / "memory.current"))
    raw = _text(dirs.memory / "memory.max").strip()
    return Memory(usage, max(usage - stat.get("inactive_file", 0), 0), None if raw == "max" else int(raw))


def storage_bytes(dirs: CgroupDirs) -> tuple[int, int]:
    """Bytes read and written by the container's processes, over every device."""
    if dirs.version == 2:
        return parse_io_stat(_read_or_empty(dirs.blkio / "io.stat"))
    for name in ("blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"):
        text = _read_or_empty(dirs.blkio / name)
        if any(len(line.split()) == 3 for line in text.splitlines()):
            return parse_blkio(text)
    return 0, 0


def network(pid: int, proc: Path = PROC) -> tuple[int, dict[str, Interface]]:
    """The process's network namespace (its inode, to count a shared one once) and its interfaces."""
    namespace = os.stat(proc / str(pid) / "ns" / "net").st_ino
    return namespace, parse_net_dev(_text(proc / str(pid) / "net" / "dev"))


def _read_or_empty(path: Path) -> str:
    try:
        return _text(path)
    except FileNotFoundError:
        return ""


def _text(path: Path) -> str:
    """A small kernel file's text: two system calls, none of the text-file machinery (a scrape reads
    several hundred of these)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return os.read(descriptor, 1 << 16).decode()
    finally:
        os.close(descriptor)


# ------------------------------------------------------------------------------------------- parsers
def parse_flat_keyed(text: str) -> dict[str, int]:
    """``key value`` lines (``memory.stat``, ``cpu.stat``)."""
    pairs = (line.split() for line in text.splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].lstrip("-").isdigit()}


def parse_blkio(text: str) -> tuple[int, int]:
    """v1 ``MAJ:MIN Op bytes`` lines; ``Read`` and ``Write`` summed over devices (``Total`` skipped)."""
    read = write = 0
    for fields in (line.split() for line in text.splitlines()):
        if len(fields) != 3:
            continue
        op = fields[1].lower()
        if op == "read":
            read += int(fields[2])
        elif op == "write":
            write += int(fields[2])
    return read, write


def parse_io_stat(text: str) -> tuple[int, int]:
    """v2 ``MAJ:MIN rbytes=N wbytes=N rios=N …`` lines, summed over devices."""
    read = write = 0
    for line in text.splitlines():
        keyed = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
        read += int(keyed.get("rbytes", 0))
        write += int(keyed.get("wbytes", 0))
    return read, write


def parse_net_dev(text: str) -> dict[str, Interface]:
    """``/proc/net/dev``: two header lines, then ``name: 8 receive fields 8 transmit fields``."""
    interfaces: dict[str, Interface] = {}
    for line in text.splitlines()[2:]:
        name, _, counters = line.partition(":")
        fields = [int(f) for f in counters.split()]
        if name.strip() == "lo" or len(fields) < 16:
            continue
        interfaces[name.strip()] = Interface(*fields[0:4], *fields[8:12])
    return interfaces
