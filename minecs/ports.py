"""A port someone else holds: which process it is, and the one line that says so.

A daemon that cannot listen on the port it was told to stops with ``PortTakenError`` and a message
that names the port and, when this user can see it, the process listening there (its ``comm`` and
pid): ``metrics cannot listen on 127.0.0.1:9100: the port is taken by python (pid 4242); stop it or
choose another with --metrics-port``. The controller's API port and every agent port the user chose
use it, through ``cannot_listen`` (``minecs.api.serving``, ``agent.endpoints.server``).

How the holder is found, Linux only: the listening sockets of ``/proc/net/tcp`` and ``tcp6`` with
that local port give socket inodes, and the process with a descriptor ``socket:[inode]`` in
``/proc/PID/fd`` holds it. Another user's descriptors are not readable without privilege, so the
holder is then unknown and the message says only that the port is taken. Design decision: this is
read only on the error path, after the bind failed, so scanning every process costs nothing in a
daemon that starts well.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

from minecs.errors import MinecsError, PortTakenError

PROC = Path("/proc")
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column


@dataclass(frozen=True)
class Holder:
    """The process listening on a port: its command name (``/proc/PID/comm``) and id."""

    name: str
    pid: int


def listening_inodes(table: str, port: int) -> set[int]:
    """The inodes of the sockets listening on ``port`` in a ``/proc/net/tcp`` (or ``tcp6``) text."""
    found = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[9] != "0":
            found.add(int(fields[9]))
    return found


def socket_inode(link: str) -> int | None:
    """The inode of a descriptor's link text ``socket:[12345]``; None for anything else."""
    if link.startswith("socket:[") and link.endswith("]"):
        return int(link[len("socket:[") : -1])
    return None


def holder_of(port: int, proc: Path = PROC) -> Holder | None:
    """The process listening on TCP ``port`` on this host, when this user can see it."""
    inodes: set[int] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            inodes |= listening_inodes((proc / "net" / table).read_text(), port)
    if not inodes:
        return None
    for process in proc.iterdir():
        if process.name.isdigit() and _holds(process, inodes):
            with contextlib.suppress(OSError):
                return Holder((process / "comm").read_text().strip(), int(process.name))
    return None


def _holds(process: Path, inodes: set[int]) -> bool:
    try:
        descriptors = list((process / "fd").iterdir())
    except OSError:  # another user's process, or one that has just ended
        return False
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            if socket_inode(os.readlink(descriptor)) in inodes:
                return True
    return False


def named(holder: Holder | None) -> str:
    """``python (pid 4242)``, or as much of it as is known."""
    if holder is None:
        return "another process"
    if holder.pid == os.getpid():
        return f"this process (pid {holder.pid}), another of its servers"
    return f"{holder.name} (pid {holder.pid})"


def port_taken(what: str, host: str, port: int, flag: str | None = None) -> PortTakenError:
    """The error a daemon stops with when ``host:port`` is taken, its holder named when known."""
    message = f"{what} cannot listen on {host}:{port}: the port is taken by {named(holder_of(port))}"
    if flag:
        message += f"; stop it or choose another with {flag}"
    return PortTakenError(message, port=port)


def cannot_listen(what: str, host: str, port: int, exc: OSError, flag: str | None = None) -> MinecsError:
    """The one line a daemon stops with when binding ``host:port`` failed: a port taken is a
    ``PortTakenError`` naming its holder, anything else the system's reason."""
    if exc.errno == errno.EADDRINUSE:
        return port_taken(what, host, port, flag)
    return MinecsError(f"{what} cannot listen on {host}:{port}: {exc.strerror or exc}")
