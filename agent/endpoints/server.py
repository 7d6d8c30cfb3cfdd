"""The one shape of the agent's small HTTP servers (metadata endpoint, introspection, metrics).

Each is an aiohttp application embedded in the agent's own event loop: ``AppRunner`` with
``handle_signals=False`` (the daemon owns signals) and one ``TCPSite`` per address, started with
``start`` and stopped with ``stop``, whatever the server. Design decision: a port that is taken
falls back to a free one, logged, because a second agent on the host holds ECS's fixed ports.
"""

from __future__ import annotations

import errno

from aiohttp import web

from minecs.errors import MinecsError
from minecs.logs import get_logger

log = get_logger(__name__)
LOOPBACK = "127.0.0.1"


class SmallServer:
    """One application, served on 127.0.0.1 (and, with ``also_on``, on more addresses)."""

    def __init__(self, app: web.Application, *, what: str) -> None:
        self.what = what
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        self._started = False

    async def start(self, port: int) -> int:
        """Listen on 127.0.0.1:``port`` (any free port when it is taken); the port bound."""
        await self._runner.setup()
        self._started = True
        return await listen(self._runner, LOOPBACK, port, what=self.what)

    async def also_on(self, host: str, port: int) -> None:
        """Listen on one more address, on the port already bound; ``OSError`` when it cannot."""
        await web.TCPSite(self._runner, host, port).start()

    async def stop(self) -> None:
        if self._started:
            await self._runner.cleanup()


async def listen(runner: web.AppRunner, host: str, port: int, *, what: str) -> int:
    """Serve ``runner`` on ``host:port``, or on a free port when that one is taken (a second agent on
    the host holds ECS's fixed ports); returns the port bound."""
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise MinecsError(f"{what} cannot listen on {host}:{port}: {exc}") from exc
        log.warning("port taken; using an ephemeral one", what=what, port=port)
        site = web.TCPSite(runner, host, 0)
        await site.start()
    server = site._server  # aiohttp keeps the bound sockets here; the port is what we need
    return int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
