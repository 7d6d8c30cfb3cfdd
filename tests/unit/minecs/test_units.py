"""Task cpu/memory strings as ECS reads them, and the Fargate size table."""

from __future__ import annotations

import pytest

from minecs.model.units import FARGATE_SIZES, fargate_accepts, parse_cpu, parse_memory


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("1024", 1024),
        ("1 vCPU", 1024),
        ("0.5 vcpu", 512),
        ("0.25vCPU", 256),
        (" 2 VCPU ", 2048),
        ("16 vCPU", 16384),
    ],
)
def test_cpu(text: str, units: int) -> None:
    assert parse_cpu(text) == units


@pytest.mark.parametrize(
    ("text", "mib"), [("512", 512), ("1 GB", 1024), ("1GB", 1024), ("0.5 GB", 512), ("2048 MiB", 2048)]
)
def test_memory(text: str, mib: int) -> None:
    assert parse_memory(text) == mib


@pytest.mark.parametrize("text", ["", "one", "1 core", "0.3 vCPU", "-1", "1e3", "1..2"])
def test_unreadable_cpu(text: str) -> None:
    assert parse_cpu(text) is None


@pytest.mark.parametrize("text", ["", "1 TB", "512 bytes", "1.1"])
def test_unreadable_memory(text: str) -> None:
    assert parse_memory(text) is None


def test_fargate_table_edges() -> None:
    assert fargate_accepts(256, 512)
    assert fargate_accepts(256, 2048)
    assert not fargate_accepts(256, 3072)
    assert fargate_accepts(4096, 30720)
    assert not fargate_accepts(4096, 31744)
    assert fargate_accepts(8192, 61440)
    assert fargate_accepts(8192, 20480)
    assert not fargate_accepts(8192, 18432)
    assert fargate_accepts(16384, 122880)
    assert not fargate_accepts(300, 1024)
    assert FARGATE_SIZES[512] == (1024, 2048, 3072, 4096)
