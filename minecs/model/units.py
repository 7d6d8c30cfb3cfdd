"""Task-level CPU and memory as ECS writes them: "1024", "1 vCPU", "0.5 vcpu", "2 GB", "2048 MiB".

ECS converts these strings to integers when a task definition is registered (CPU units, 1024 per
vCPU; MiB, 1024 per GB), and describe shows the integers as strings. ``parse_cpu`` and
``parse_memory`` do the same and return None for text they cannot read (the caller reports it).

Also here: the Fargate task-size table, the only cpu/memory combinations FARGATE accepts.
Choice: a fractional result (e.g. "0.3 vCPU" = 307.2 units) is rejected rather than rounded, since
ECS documents whole units only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")

_CPU_UNITS: Mapping[str, int] = {"": 1, "vcpu": 1024}
_MEMORY_UNITS: Mapping[str, int] = {"": 1, "mb": 1, "mib": 1, "gb": 1024, "gib": 1024}


def _parse(text: str, units: Mapping[str, int]) -> int | None:
    match = _AMOUNT.match(text)
    if not match:
        return None
    number, unit = match.groups()
    scale = units.get(unit.lower())
    if scale is None:
        return None
    value = float(number) * scale
    return int(value) if value.is_integer() else None


def parse_cpu(text: str) -> int | None:
    """CPU units from "1024" or "1 vCPU" / "0.5 vcpu"; None when unreadable."""
    return _parse(text, _CPU_UNITS)


def parse_memory(text: str) -> int | None:
    """MiB from "512", "512 MiB" or "2 GB"; None when unreadable."""
    return _parse(text, _MEMORY_UNITS)


def _steps(low_gb: int, high_gb: int, step_gb: int) -> tuple[int, ...]:
    return tuple(gb * 1024 for gb in range(low_gb, high_gb + 1, step_gb))


# CPU units -> the task memory values (MiB) FARGATE accepts with it (Linux).
FARGATE_SIZES: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1, 4, 1),
    1024: _steps(2, 8, 1),
    2048: _steps(4, 16, 1),
    4096: _steps(8, 30, 1),
    8192: _steps(16, 60, 4),
    16384: _steps(32, 120, 8),
}


def fargate_accepts(cpu: int, memory: int) -> bool:
    return memory in FARGATE_SIZES.get(cpu, ())
