"""systemd's notify protocol, client side: ``READY=1``, ``STOPPING=1`` and watchdog pings.

A message is one datagram to the unix socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` means the
abstract namespace). Without that variable (not started by systemd with ``Type=notify``) every call
does nothing, so the daemons call it unconditionally. ``watchdog_interval`` reads ``$WATCHDOG_USEC``
and answers half of it, the rate systemd's documentation recommends for ``WATCHDOG=1`` pings.
Written here rather than depending on a library: it is one ``sendto``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping

from minecs.aiotasks import sleep_or_wake
from minecs.logs import get_logger

log = get_logger(__name__)


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` to systemd; False when there is no socket to send to (or sending failed)."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log.warning("systemd notification not sent", message=message, error=str(exc))
        return False
    return True


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between watchdog pings (half of ``WATCHDOG_USEC``), or None when no watchdog is set."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


async def watchdog(stop: asyncio.Event, environ: Mapping[str, str] | None = None) -> None:
    """Ping ``WATCHDOG=1`` until ``stop``; returns at once when systemd asked for no watchdog."""
    interval = watchdog_interval(environ)
    if interval is None:
        await stop.wait()
        return
    while not stop.is_set():
        notify("WATCHDOG=1", environ)
        await sleep_or_wake(interval, stop)
