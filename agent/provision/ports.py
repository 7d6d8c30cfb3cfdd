"""Host ports for bridge-mode tasks: the agent picks dynamic ports itself, as the ECS agent does.

Why not let Docker pick (``HostPort: 0``)? Because the agent must know the port before it reports
``networkBindings``, must keep it reserved for the task's whole life (also across an agent restart),
and must skip ports the operator reserved. So:

* the range is ``/proc/sys/net/ipv4/ip_local_port_range`` (``ECS_DYNAMIC_HOST_PORT_RANGE`` default),
  falling back to 49153-65535 when the file is missing;
* reserved ports (22, 2375, 2376, 51678, 51679, 51680 plus a setting) are never handed out;
* a port is handed out only if nothing else holds it: not another task's reservation and not a
  listening socket on this host (checked by a test bind);
* allocation walks the range from a cursor that keeps moving, so a port just released is not handed
  out again at once (a restarted container's port is not reused by the next task immediately).

Static host ports are reserved through the same table, so two tasks can never both claim one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path

from minecs.errors import PortsExhaustedError

DEFAULT_RANGE = (49153, 65535)
DEFAULT_RESERVED = frozenset({22, 2375, 2376, 51678, 51679, 51680})
RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def read_range(path: Path = RANGE_FILE) -> tuple[int, int]:
    try:
        low, high = (int(x) for x in path.read_text().split())
    except (OSError, ValueError):
        return DEFAULT_RANGE
    return (low, high) if 0 < low <= high <= 65535 else DEFAULT_RANGE


def _free_on_host(port: int, protocol: str, address: str) -> bool:
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


class PortTable:
    """Which host ports (per protocol) belong to which task."""

    def __init__(
        self,
        port_range: tuple[int, int] | None = None,
        reserved: Iterable[int] = (),
        probe_address: str = "0.0.0.0",
    ) -> None:
        self.low, self.high = port_range or read_range()
        self.reserved = DEFAULT_RESERVED | set(reserved)
        self.probe_address = probe_address
        self._owner: dict[tuple[int, str], str] = {}
        self._cursor = self.low

    def claim(self, owner: str, port: int, protocol: str = "tcp") -> bool:
        """Reserve a static port for ``owner``; False when another owner holds it."""
        holder = self._owner.setdefault((port, protocol), owner)
        return holder == owner

    def allocate(self, owner: str, protocol: str = "tcp") -> int:
        """A free dynamic port, now reserved for ``owner``."""
        size = self.high - self.low + 1
        for step in range(size):
            port = self.low + (self._cursor - self.low + step) % size
            key = (port, protocol)
            if port in self.reserved or key in self._owner:
                continue
            if not _free_on_host(port, protocol, self.probe_address):
                continue
            self._owner[key] = owner
            self._cursor = port + 1 if port < self.high else self.low
            return port
        raise PortsExhaustedError(f"no free {protocol} host port in {self.low}-{self.high}")

    def release(self, owner: str) -> None:
        for key in [k for k, v in self._owner.items() if v == owner]:
            del self._owner[key]

    def owned_by(self, owner: str) -> list[tuple[int, str]]:
        return sorted(k for k, v in self._owner.items() if v == owner)
