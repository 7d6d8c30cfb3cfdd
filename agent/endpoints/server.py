"""The one shape of the agent's small HTTP servers (metadata endpoint, introspection, metrics).

Each is an aiohttp application embedded in the agent's own event loop: ``AppRunner`` with
``handle_signals=False`` (the daemon owns signals) and one ``TCPSite`` per address, started with
``start`` and stopped with ``stop``, whatever the server.

Design decision: a port is either ECS's default (the setting unset, ``None``) or the user's choice.
A default port that is taken falls back to a free one, logged, because a second agent on the host
holds ECS's fixed ports; a chosen port that is taken stops the agent with one line naming the
process holding it (``minecs.ports``), because a silently different port is not what was asked for.
"""

from __future__ import annotations

import errno

from aiohttp import web

from minecs.logs import get_logger
from minecs.ports import cannot_listen, holder_of, named

log = get_logger(__name__)
LOOPBACK = "127.0.0.1"


class SmallServer:
    """One application, served on one address (and, with ``also_on``, on more).

    ``what`` names it in messages; ``flag`` is the command-line option that sets its port."""

    def __init__(self, app: web.Application, *, what: str, flag: str | None = None) -> None:
        self.what, self.flag = what, flag
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        self._started = False

    async def start(self, port: int | None, *, default: int, host: str = LOOPBACK) -> int:
        """Listen on ``host:port`` (``None``: ``default``, or a free port when that is taken); the
        port bound."""
        await self._runner.setup()
        self._started = True
        try:
            return await listen(self._runner, host, port, default=default, what=self.what, flag=self.flag)
        except BaseException:
            await self.stop()
            raise

    async def also_on(self, host: str, port: int) -> None:
        """Listen on one more address, on the port already bound; ``OSError`` when it cannot."""
        await web.TCPSite(self._runner, host, port).start()

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self._runner.cleanup()


async def listen(
    runner: web.AppRunner, host: str, port: int | None, *, default: int, what: str, flag: str | None = None
) -> int:
    """Serve ``runner`` on ``host:port`` and return the port bound. ``port`` None means ECS's
    ``default`` or, when that is taken (a second agent on the host), any free port, with a warning;
    a ``port`` given that is taken is a ``PortTakenError`` naming its holder (0: any free port)."""
    wanted = default if port is None else port
    try:
        return await _bind(runner, host, wanted)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port is not None:  # only ECS's default port falls back
            raise cannot_listen(what, host, wanted, exc, flag) from exc
    log.warning(
        "default port taken; using a free one", what=what, port=wanted, holder=named(holder_of(wanted))
    )
    return await _bind(runner, host, 0)


async def _bind(runner: web.AppRunner, host: str, port: int) -> int:
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # aiohttp keeps the bound sockets here; the port is what we need
    return int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
