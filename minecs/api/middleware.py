"""How every refusal and every fault is answered: one classification, one renderer per wire format.

Which shape a request gets is decided by its route, before anything else is read: ``/`` by POST
(or with an ``X-Amz-Target``) is the ECS JSON 1.1 front end, answered ``{"__type", "message"}`` as
``application/x-amz-json-1.1`` with an ``x-amzn-RequestId``, the message being ECS's sentence alone
(for a ``ValidationError``, the first problem's, as ECS reports the first problem it finds; every
problem, with its member path, rides along in an extra ``minecsProblems`` member that the SDKs
ignore); every other path is the native API
(``/v1``, ``/agent/v1``, unknown paths), answered ``{"code", "message"}`` (plus ``problems`` for a
``ValidationError``) and, because a refused WebSocket upgrade shows only its headers, the same
words in a ``Minecs-Error`` header (printable ASCII only). ``answer`` is the only place an
exception becomes a response, through one function per wire format (``ecs_response``,
``native_response``); the ``refusals`` middleware calls it for every route, aiohttp's own
404/405/413 included. (A request aiohttp cannot even parse never reaches the app: its answer is
``minecs.api.serving``'s, in both shapes at once, since no route is known.)

The other middleware here, ``wake_on_write``, wakes the reconcile loop after a write that succeeded.

Classification:

* ``EcsError``: its status and code (the ECS front end sends statuses below 500 as 400, except 403
  and the HTTP-level 405/413, as AWS does, and a ``MalformedRequestError`` as
  ``SerializationException``);
* aiohttp's ``HTTPException`` (no route, wrong method, body too large): its status;
  ``UnknownOperationException`` for 404/405, ``ClientException`` otherwise;
* a store fault (``StoreError`` other than a version conflict: I/O, disk full, corruption) is
  500 ``ServerException``: the server failed, not the request; the message names no file;
* any other ``MinecsError``: 400 ``ClientException``;
* anything else is a bug of ours: 500 ``ServerException`` with a generic message (no exception
  text, no path), logged once as one JSON line with the traceback in its ``exception`` field.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from minecs.api.bodies import printable
from minecs.api.keys import READ_ONLY, REQUEST_ID, WAKE
from minecs.errors import (
    EcsError,
    FieldProblem,
    MinecsError,
    StoreError,
    ValidationError,
    VersionConflictError,
)
from minecs.logs import get_logger

log = get_logger(__name__)

Front = Literal["ecs", "native"]
JSON_1_1 = "application/x-amz-json-1.1"
SERVER_FAULT = "The server failed to answer this request; the fault is logged on the controller."
STORE_FAULT = "The controller's store failed; the request did not take effect. Try again later."
_ECS_STATUSES_KEPT = frozenset({403, 405, 413})
MAX_HEADER_TEXT = 1000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    ecs_code: str | None = None
    problems: tuple[FieldProblem, ...] = ()


def front_of(method: str, path: str, headers: Mapping[str, str]) -> Front:
    return "ecs" if path == "/" and (method == "POST" or "X-Amz-Target" in headers) else "native"


def refusal_of(exc: BaseException, *, method: str, path: str) -> Refusal:
    if isinstance(exc, web.HTTPException):
        return _http_refusal(exc, method, path)
    if isinstance(exc, EcsError):
        problems = exc.problems if isinstance(exc, ValidationError) else ()
        return Refusal(exc.status, exc.code, exc.message, exc.ecs_code, problems)
    if isinstance(exc, StoreError) and not isinstance(exc, VersionConflictError):
        log.error("store failed", error=exc.message, method=method, path=printable(path))
        return Refusal(500, "ServerException", STORE_FAULT)
    if isinstance(exc, MinecsError):
        return Refusal(400, "ClientException", exc.message)
    log.error("request failed", method=method, path=printable(path), exc_info=exc)
    return Refusal(500, "ServerException", SERVER_FAULT)


def _http_refusal(exc: web.HTTPException, method: str, path: str) -> Refusal:
    if exc.status == 404:
        return Refusal(404, "UnknownOperationException", f"No route for {method} {printable(path)}.")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return Refusal(405, "UnknownOperationException", f"{method} is not allowed here; use {allowed}.")
    if exc.status == 413:
        return Refusal(413, "ClientException", "The request body is too large.")
    return Refusal(exc.status, "ClientException", exc.reason)


def native_response(refusal: Refusal) -> web.Response:
    """The refusal as the native API sends it: ``{"code", "message"}`` (and ``problems``), the same in a header."""
    body: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
    if refusal.problems:
        body["problems"] = _problems(refusal.problems)
    refused = web.json_response(body, status=refusal.status)
    # A WebSocket client (minecs exec) sees a refused upgrade's status and headers, not its body.
    refused.headers["Minecs-Error"] = printable(f"{refusal.code}: {refusal.message}", most=MAX_HEADER_TEXT)
    return refused


def _problems(problems: tuple[FieldProblem, ...]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message, "code": p.code} for p in problems]


def ecs_response(refusal: Refusal, request_id: str) -> web.Response:
    """The refusal as AWS sends it: statuses under 500 are 400 (403/405/413 kept); ECS's sentence alone."""
    kept = refusal.status >= 500 or refusal.status in _ECS_STATUSES_KEPT
    body: dict[str, Any] = {"__type": refusal.ecs_code or refusal.code, "message": refusal.message}
    if refusal.problems:
        body["message"] = refusal.problems[0].message
        body["minecsProblems"] = _problems(refusal.problems)
    return web.json_response(
        body,
        status=refusal.status if kept else 400,
        headers={"x-amzn-RequestId": request_id},
        content_type=JSON_1_1,
    )


def answer(exc: BaseException, request: web.Request) -> web.Response:
    """``exc`` classified once, then rendered by its front end's one function (``refusals`` calls this)."""
    refusal = refusal_of(exc, method=request.method, path=request.path)
    if front_of(request.method, request.path, request.headers) == "ecs":
        return ecs_response(refusal, request.get(REQUEST_ID) or str(uuid.uuid4()))
    return native_response(refusal)


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every exception a handler (or aiohttp's router) raises, answered in the request's front end's shape."""
    if front_of(request.method, request.path, request.headers) == "ecs":
        request[REQUEST_ID] = str(uuid.uuid4())
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return answer(exc, request)
    except Exception as exc:
        return answer(exc, request)


@web.middleware
async def wake_on_write(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A write that succeeded (an API change, an agent's state report) wakes the reconcile loop at once.

    The reconciler's own writes do not pass through here, so it never wakes itself."""
    response = await handler(request)
    if request.method != "GET" and response.status < 400 and not request.get(READ_ONLY):
        request.app[WAKE].set()
    return response
