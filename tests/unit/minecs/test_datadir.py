"""The data directory is 0700 and its store and credentials 0600, from the first start and after a fix."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import structlog.testing

from minecs.controller import Address, serve
from minecs.datadir import PRIVATE_FILES, secure
from minecs.settings import Settings
from minecs.store.sqlite import SqliteStore
from tests.conftest import free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_data_dir_is_0700_and_the_store_with_its_wal_and_shm_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    secure(data_dir)
    store = await SqliteStore.open(data_dir / "minecs.db")
    try:
        await store.create("cluster", "c", {"x": 1})
        assert mode(data_dir) == 0o700
        for name in ("minecs.db", "minecs.db-wal", "minecs.db-shm"):
            assert mode(data_dir / name) == 0o600, name
    finally:
        await store.close()


def test_an_open_data_dir_and_its_files_are_warned_about_and_fixed(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    for name in PRIVATE_FILES:
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    with structlog.testing.capture_logs() as logged:
        secure(tmp_path)
    warned = {(e["path"], e["mode"]) for e in logged if e["log_level"] == "warning"}
    assert warned == {(str(tmp_path), "0755")} | {(str(tmp_path / n), "0644") for n in PRIVATE_FILES}
    assert mode(tmp_path) == 0o700
    assert all(mode(tmp_path / n) == 0o600 for n in PRIVATE_FILES)


def test_modes_tighter_than_private_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "minecs.db").write_bytes(b"")
    (tmp_path / "minecs.db").chmod(0o400)
    tmp_path.chmod(0o700)
    with structlog.testing.capture_logs() as logged:
        secure(tmp_path)
    assert logged == []
    assert mode(tmp_path / "minecs.db") == 0o400


async def test_the_controller_fixes_an_open_data_dir_when_it_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    (data_dir / "minecs.db").write_bytes(b"")
    (data_dir / "minecs.db").chmod(0o644)
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(serve(Settings(data_dir=data_dir), Address(port=free_port()), stop, ready))
    try:
        started = asyncio.ensure_future(ready.wait())
        await asyncio.wait({started, running}, return_when=asyncio.FIRST_COMPLETED)
        assert ready.is_set(), running
        assert (mode(data_dir), mode(data_dir / "minecs.db"), mode(data_dir / "credentials")) == (
            0o700,
            0o600,
            0o600,
        )
    finally:
        stop.set()
        await running
