"""The dynamic port table and the local secret store."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agent.provision.ports import PortTable, read_range
from agent.provision.secrets import LocalSecretStore, candidate_keys, parse_env_file, read_env_files
from minecs.errors import PortsExhaustedError, SecretNotFoundError


def test_range_file_and_fallback(tmp_path: Path) -> None:
    good = tmp_path / "range"
    good.write_text("32768\t60999\n")
    assert read_range(good) == (32768, 60999)
    bad = tmp_path / "bad"
    bad.write_text("nonsense")
    assert read_range(bad) == (49153, 65535)
    assert read_range(tmp_path / "absent") == (49153, 65535)


def _listening_below_the_ephemeral_range() -> socket.socket:
    """A listening socket on a port whose next three are free, outside Linux's ephemeral range
    (32768-60999), so the test's ports are not taken meanwhile by some other program's connection."""
    for base in range(21000, 30000, 10):
        busy = socket.socket()
        try:
            for port in (base + 1, base + 2, base + 3):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            busy.bind(("127.0.0.1", base))
        except OSError:
            busy.close()
            continue
        busy.listen()
        return busy
    raise AssertionError("no free ports below the ephemeral range")


def test_allocation_skips_reserved_claimed_and_busy_ports() -> None:
    with _listening_below_the_ephemeral_range() as busy:
        port = busy.getsockname()[1]
        table = PortTable((port, port + 3), reserved=[port + 1], probe_address="127.0.0.1")
        assert table.claim("t1", port + 2)
        assert not table.claim("t2", port + 2)
        assert table.allocate("t2") == port + 3
        with pytest.raises(PortsExhaustedError):
            table.allocate("t3")
        assert table.owned_by("t2") == [(port + 3, "tcp")]
        table.release("t2")
        assert table.owned_by("t2") == []


def test_cursor_moves_on_so_a_released_port_is_not_reused_at_once() -> None:
    table = PortTable((40000, 40010), probe_address="127.0.0.1")
    first = table.allocate("a")
    table.release("a")
    assert table.allocate("b") != first


def test_tcp_and_udp_are_separate() -> None:
    table = PortTable((40100, 40101), probe_address="127.0.0.1")
    assert table.claim("a", 40100, "tcp")
    assert table.claim("b", 40100, "udp")


def test_secret_keys_from_arns() -> None:
    assert candidate_keys("arn:aws:ssm:us-east-1:1:parameter/app/db-password") == ["db-password"]
    assert candidate_keys("arn:aws:secretsmanager:r:1:secret:db-AbCdEf")[-2:] == ["db-AbCdEf", "db"]
    assert candidate_keys("plain") == ["plain"]


def test_local_store_reads_private_files_only(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("s3cr3t\n")
    secret.chmod(0o600)
    store = LocalSecretStore(tmp_path)
    assert store.resolve("arn:aws:ssm:r:1:parameter/db-password") == "s3cr3t"
    secret.chmod(0o644)
    with pytest.raises(SecretNotFoundError, match="readable by group or others"):
        store.resolve("db-password")
    with pytest.raises(SecretNotFoundError, match="no secret for missing"):
        store.resolve("missing")


def test_env_files(tmp_path: Path) -> None:
    assert parse_env_file("# c\nA=1\n\nB = two=2\nnot a pair\n") == {"A": "1", "B": " two=2"}
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    first.write_text("A=1\nB=1\n")
    second.write_text("B=2\n")
    assert read_env_files([str(first), str(second)]) == {"A": "1", "B": "2"}
    with pytest.raises(SecretNotFoundError, match="cannot read environment file"):
        read_env_files([str(tmp_path / "none.env")])
