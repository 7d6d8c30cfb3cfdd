"""Every process a bench starts, and the one way they are stopped: whatever happens, none outlives it.

A bench that failed half-way (a start that never became ready, an exception, Ctrl-C, SIGTERM from
``bench.run`` or a CI timeout) once left its ``minecs up`` and controller processes running, holding
the agent's fixed ports for the next run. So each process is started here, in its own process group
(``start_new_session``: its children go with it), and recorded; ``stop`` asks the group with SIGTERM
and, past a deadline, kills it; at interpreter exit every recorded process still alive is stopped,
and SIGINT / SIGTERM of the bench become ``SystemExit``, so ``finally`` blocks and the exit hook run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

_LIVE: list[subprocess.Popen[bytes]] = []
_installed = False


def spawn(
    argv: Sequence[str],
    *,
    stdout: IO[Any] | int | None = subprocess.DEVNULL,
    stderr: IO[Any] | int | None = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new process group, recorded so that it is stopped whatever happens."""
    _install()
    process = subprocess.Popen(
        list(argv), stdout=stdout, stderr=stderr, env=env, cwd=cwd, start_new_session=True
    )
    _LIVE.append(process)
    return process


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the process's group, then SIGKILL if it has not exited within ``timeout`` s."""
    try:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)
        # The leader is gone; a child it left behind in its group goes too.
        _signal_group(process, signal.SIGKILL)
    finally:
        with contextlib.suppress(ValueError):
            _LIVE.remove(process)


def stop_all() -> None:
    """Stop every recorded process, the newest first (an agent before its controller)."""
    for process in reversed(list(_LIVE)):
        stop(process)


def alive() -> list[int]:
    """The pids of recorded processes that have not exited."""
    return [p.pid for p in _LIVE if p.poll() is None]


def _signal_group(process: subprocess.Popen[bytes], signo: int) -> None:
    # The group id is the leader's pid (start_new_session); it outlives the leader while members remain.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signo)


def _exit_on_signal(signo: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signo)


def _install() -> None:
    global _installed  # noqa: PLW0603 - installed once per process, on the first spawn
    if _installed:
        return
    _installed = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can be set from the main thread only
    for signo in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signo, _exit_on_signal)
