"""The controller's data directory is private: the directory 0700 and its files 0600, checked at every start.

The store (``minecs.db``, and SQLite's ``-wal`` and ``-shm`` beside it) holds task definitions'
environment values in plain text, and ``credentials`` holds the admin secret. ``secure`` runs
before the store is opened, on every controller start (``minecs controller`` and ``minecs up``
both start through ``minecs.controller.serve``):

* a missing directory is created 0700, and a missing ``minecs.db`` created empty with mode 0600
  before SQLite opens it, because SQLite gives ``-wal`` and ``-shm`` the main file's mode;
* an existing directory or file that group or others may read (or write) gets a warning naming the
  path and the mode found, and is set to 0700 / 0600. A mode tighter than that is left alone.

``minecs up`` also records its process id in ``up.pid`` while it runs (``pid_file``), which is how
``minecs down`` finds the daemon to stop.

One daemon per data dir: every daemon (``up``, ``controller``, ``agent``, ``agent-static``) holds
``<data-dir>/minecs.lock`` while it runs (``lock``), an exclusive ``flock`` taken without waiting,
so a second one on the same directory stops at once with ``DataDirInUseError`` naming the holder's
pid and command (written in the file). The kernel releases a ``flock`` with the process, kill -9
included, so a stale file never blocks a start; that is why it is a lock and not a pid file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from minecs.errors import DataDirInUseError
from minecs.logs import get_logger

log = get_logger(__name__)

DATABASE = "minecs.db"
PID_FILE = "up.pid"
LOCK_FILE = "minecs.lock"
PRIVATE_FILES = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", "credentials")
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def secure(data_dir: Path) -> None:
    """Create or tighten ``data_dir`` and the private files in it (see the module docstring)."""
    data_dir.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    _tighten(data_dir, DIRECTORY_MODE)
    database = data_dir / DATABASE
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for name in PRIVATE_FILES:
        path = data_dir / name
        if path.exists():
            _tighten(path, FILE_MODE)


def _tighten(path: Path, wanted: int) -> None:
    found = stat.S_IMODE(path.stat().st_mode)
    if found & ~wanted:
        log.warning("data path too open; fixed", path=str(path), mode=f"{found:04o}", now=f"{wanted:04o}")
        path.chmod(wanted)


@contextlib.contextmanager
def pid_file(data_dir: Path) -> Iterator[None]:
    """``<data-dir>/up.pid`` holds this process's id while the block runs; removed when it ends,
    unless another process has written its own id there meanwhile."""
    data_dir.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    path, mine = data_dir / PID_FILE, f"{os.getpid()}\n"
    path.write_text(mine)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            if path.read_text() == mine:
                path.unlink()


def recorded_pid(data_dir: Path) -> int | None:
    """The id in ``<data-dir>/up.pid``, if the file is there and holds one."""
    try:
        text = (data_dir / PID_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def lock(data_dir: Path, command: str) -> Iterator[None]:
    """Hold ``<data-dir>/minecs.lock`` while the block runs, or raise ``DataDirInUseError`` at once
    when another process holds it; the file says who holds it (``<pid> <command>``)."""
    data_dir.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    descriptor = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUseError(in_use(data_dir, os.pread(descriptor, 256, 0).decode())) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()} {command}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)  # while still held: a newer holder's line is never erased
    finally:
        os.close(descriptor)  # releases the lock


def in_use(data_dir: Path, recorded: str) -> str:
    """The sentence for a data dir whose lock file holds ``recorded`` (``"4242 minecs up"``)."""
    pid, _, command = recorded.strip().partition(" ")
    holder = f"{command or 'minecs'} (pid {pid})" if pid.isdigit() else "another minecs process"
    return f"data dir {data_dir} is in use by {holder}; stop it first, or give this one its own --data-dir"
