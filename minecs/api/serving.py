"""The app on a TCP port, as the controller serves it and as the tests serve it: ``Serving``.

aiohttp answers a request it cannot parse (a broken request line, a line or header over 8190
bytes, a bad header, a bad chunked body) itself, in ``RequestHandler.handle_error``, before any
middleware or signal runs: ``on_response_prepare`` does not fire there (aiohttp issues #3287 and
#6463 are open), so no app-level hook can reach that answer. Left alone it is ``text/plain``, and
its log line is a multi-line traceback, for what is only a client's bad request.

Choice: subclass the two public classes involved and nothing else. ``web.RequestHandler`` gets its
``handle_error`` overridden (the method aiohttp calls for every answer it makes on its own);
``web.Server``, the protocol factory, makes that handler for each connection. The application
still runs in its own ``web.AppRunner`` (startup, cleanup contexts, shutdown), and our ``Server``
is built from that runner's ``server.request_handler`` and ``server.request_factory``, both public
attributes; the TCP site is served by a ``web.ServerRunner`` around it. No private name is used.

What the client gets for a request aiohttp could not parse: its status (400 in practice), and a
JSON body holding both front ends' members (``{"__type", "code", "message"}``), because nothing
about the route is known when the request line itself is what failed; a botocore client reads
``__type``, a native one ``code``. It is logged as one ``bad http request`` line at info, without
a traceback. A handler fault that escapes every middleware (there should be none: see
``minecs.api.middleware``) is 500 ``ServerException`` in the same shape, logged with its traceback.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_request import BaseRequest

from minecs.api.middleware import SERVER_FAULT
from minecs.logs import get_logger
from minecs.ports import cannot_listen

log = get_logger(__name__)

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (http_exceptions.LineTooLong, "A request line or header is longer than the server accepts."),
    (http_exceptions.BadHttpMethod, "The request method is not valid HTTP."),
    (http_exceptions.BadStatusLine, "The request line is not valid HTTP."),
    (http_exceptions.InvalidHeader, "A request header is not valid HTTP."),
)


def parse_refusal(exc: BaseException | None) -> str:
    """What to tell a client whose request aiohttp could not parse (never its own bytes echoed)."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "The request is not valid HTTP."


class ShapedRequestHandler(web.RequestHandler):
    """aiohttp's per-connection protocol, with its own error answers in our JSON shape."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # As aiohttp does: part of an answer is on the wire already; the connection is broken.
            raise ConnectionError("Response is sent already, cannot send another response")
        if status >= 500:
            log.error("request failed outside the app", status=status, exc_info=exc)
            code, text = "ServerException", SERVER_FAULT
        else:
            log.info("bad http request", status=status, remote=request.remote, reason=type(exc).__name__)
            code, text = "ClientException", parse_refusal(exc)
        body = json.dumps({"__type": code, "code": code, "message": text})
        response = web.Response(status=status, text=body, content_type="application/json")
        response.force_close()
        return response


class ShapedServer(web.Server):
    """``web.Server`` (the protocol factory) making a ``ShapedRequestHandler`` per connection."""

    def __init__(self, inner: web.Server, **handler_args: Any) -> None:
        super().__init__(
            inner.request_handler,
            request_factory=inner.request_factory,
            handler_cancellation=inner.handler_cancellation,
            **handler_args,
        )
        self._handler_args = handler_args
        self._serving_loop = asyncio.get_running_loop()

    def __call__(self) -> web.RequestHandler:
        return ShapedRequestHandler(self, loop=self._serving_loop, **self._handler_args)


class Serving:
    """One application served on one TCP address until ``close``."""

    def __init__(self, app: web.Application, *, shutdown_timeout: float = 2.0) -> None:
        self.app = app
        self._app_runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout)
        self._runner: web.ServerRunner | None = None
        self._shutdown_timeout = shutdown_timeout

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); the port really bound. A port that cannot
        be had is one ``MinecsError`` line: taken (``PortTakenError``, naming its holder), or why not."""
        await self._app_runner.setup()
        inner = self._app_runner.server
        assert inner is not None  # set by setup()
        self._runner = web.ServerRunner(
            ShapedServer(inner), handle_signals=False, shutdown_timeout=self._shutdown_timeout
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise cannot_listen("the controller API", host, port, exc, "--port") from exc
        return int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._app_runner.cleanup()
