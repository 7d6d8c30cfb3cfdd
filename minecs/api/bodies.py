"""The decoding boundary: every body, path parameter, query value and header any front end reads.

Every JSON body (ECS, native ``/v1``, agent) is read by ``json_object``; every request passes
``guard`` (a middleware) before its handler runs. A body is read with a size cap and decoded
strictly, so that nothing past this module ever sees a value Python's ``json`` would let through
but the rest of minecs cannot hold:

* at most ``MAX_BODY`` bytes (1 MiB); more is ``RequestTooLargeError`` (413);
* UTF-8 only (no BOM), and no lone surrogate in any key or string (``"\\ud800"`` is valid JSON but
  cannot be stored or sent on); both are ``MalformedRequestError``;
* nesting at most ``MAX_DEPTH`` (64) deep, measured on the text *before* decoding: what minecs does
  with a decoded body recurses, and a body nested ~1000 deep would hit the recursion limit;
* no ``NaN``/``Infinity`` (not JSON, though Python's decoder takes them), floats finite, integers
  within int64 (what SQLite and ECS's ``Long`` hold).

The answer is always a ``dict`` (a JSON object), or our own 4xx error; the front end renders it in
its shape (the ECS front end says ``SerializationException``, as AWS does for a body it cannot
read; the native one ``ClientException``). Typed access to the members is ``minecs.api.members``.

``guard`` holds path parameters and query values to the same rules: no lone surrogate (a raw
non-UTF-8 byte in the request line arrives as one), no NUL, and a length cap
(``MAX_PARAMETER``/``MAX_QUERY_VALUE``); path parameters (ids, names, ARNs) take no control
character at all. Header values must be UTF-8 (aiohttp hands raw bytes on as surrogates, which
no hash, signature or store can take).

Design decision: the depth scan visits only brackets, quotes and backslashes (found by one regex
pass), skips string contents, and stops at the first level past the limit, so a hostile 1 MiB body
costs one linear pass and no recursion.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from minecs.errors import MalformedRequestError, RequestTooLargeError
from minecs.model import jsontext

MAX_BODY = 1024 * 1024
MAX_DEPTH = 64
MAX_PARAMETER = 1024
MAX_QUERY_VALUE = 4096
INT64 = (-(2**63), 2**63 - 1)
_BIG_NUMBER = re.compile(rb"\d{19}")
"""A digit run that might not fit in int64 (its largest has 19 digits); shorter ones always do."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
_EVENTS = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")
_CHUNK = 64 * 1024


async def read_body(request: web.BaseRequest, limit: int = MAX_BODY) -> bytes:
    """The raw body, at most ``limit`` bytes: checked on the declared length first, then as it is read."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    parts, size = [], 0
    try:
        while chunk := await request.content.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
    except RequestPayloadError as exc:
        raise MalformedRequestError(
            "The request body could not be read (a broken transfer encoding)."
        ) from exc
    return b"".join(parts)


def _too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(f"The request body is larger than {limit} bytes.")


async def json_object(request: web.BaseRequest, *, empty_is_object: bool = False) -> dict[str, Any]:
    """Read and decode the body of ``request`` (see the module docstring)."""
    return decode_object(await read_body(request), empty_is_object=empty_is_object)


def decode_object(raw: bytes, *, empty_is_object: bool = False) -> dict[str, Any]:
    """``raw`` decoded as one JSON object under every rule of this module.

    orjson does the decoding (``minecs.model.jsontext``): it refuses invalid UTF-8, a BOM, lone
    surrogates, ``NaN`` and numbers beyond a double by itself; the depth is checked before it runs,
    and integers past int64 (which it would take, or turn into floats) after."""
    if not raw and empty_is_object:
        return {}
    if _too_deep(raw):
        raise MalformedRequestError(f"The request body is nested deeper than {MAX_DEPTH} levels.")
    try:
        body = jsontext.loads(raw)
    except ValueError as exc:
        raise MalformedRequestError(_why(raw, exc)) from exc
    if not isinstance(body, dict):
        raise MalformedRequestError("The request body must be a JSON object.")
    _check_numbers(body, raw)
    return body


def _why(raw: bytes, exc: ValueError) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"The request body is not valid UTF-8 (byte {bad.start})."
    text = str(exc)
    if "surrogate" in text:
        return _NOT_UTF8
    if "infinity" in text:
        return "The request body holds a number too large for a double."
    return "The request body is not valid JSON."


def _check_numbers(body: dict[str, Any], raw: bytes) -> None:
    """No integer outside int64, and no float that stands for an integer too big for it."""
    if not _BIG_NUMBER.search(raw):
        return  # no run of 19 digits or more: every integer fits, nothing to walk
    pending: list[Any] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
            raise MalformedRequestError(
                f"The request body holds an integer outside int64: {str(value)[:24]}..."
            )
        elif isinstance(value, float) and abs(value) >= 2.0**63 and value.is_integer():
            raise MalformedRequestError("The request body holds an integer outside int64.")


def _too_deep(raw: bytes) -> bool:
    """Whether brackets outside strings nest past ``MAX_DEPTH``; only the bytes that matter are visited."""
    depth, in_string, skip = 0, False, -1
    for found in _EVENTS.finditer(raw):
        at = found.start()
        if at == skip:
            continue  # the character after a backslash inside a string
        byte = raw[at]
        if in_string:
            if byte == _BACKSLASH:
                skip = at + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False


_NOT_UTF8 = "The request body holds a string that is not valid UTF-8 (a lone surrogate escape)."


# ---------------------------------------------------------------------------------------- the guard

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a request whose path parameters, query or headers break the rules above."""
    check_request(request)
    return await handler(request)


def check_request(request: web.Request) -> None:
    for name, value in request.match_info.items():
        _check(value, f"Path parameter '{name}'", MAX_PARAMETER, _CONTROL)
    for name, value in request.query.items():
        _check(name, "A query parameter name", MAX_PARAMETER, _CONTROL)
        _check(value, f"Query parameter '{name}'", MAX_QUERY_VALUE, _NUL_OR_SURROGATE)
    for name, value in request.headers.items():
        if _SURROGATE.search(name) or _SURROGATE.search(value):
            raise MalformedRequestError(f"Header '{printable(name)}' is not valid UTF-8.")


def _check(value: str, what: str, most: int, forbidden: re.Pattern[str]) -> None:
    if len(value) > most:
        raise MalformedRequestError(f"{printable(what)} is longer than {most} characters.")
    if forbidden.search(value):
        raise MalformedRequestError(f"{printable(what)} holds a control character or invalid UTF-8.")


def printable(text: str, most: int = 200) -> str:
    """``text`` cut to ``most`` characters, each outside printable ASCII as ``?``: safe in a header or log."""
    cut = text if len(text) <= most else text[:most] + "..."
    return "".join(ch if " " <= ch <= "~" else "?" for ch in cut)
