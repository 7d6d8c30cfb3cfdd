"""Structured logging for every minecs process, configured once at start-up.

Events are short lowercase phrases with key=value context (``log.info("task started", task_id=...)``),
never f-strings, so they can be searched and aggregated. Work items bind their context with
``structlog.contextvars.bound_contextvars`` and everything logged inside carries it.

Design decision: output is JSON lines when stderr is not a TTY (systemd, containers, CI: machines
read it) and a coloured console otherwise (a person reads it). The choice can be forced with
``fmt``. Logs go to stderr so stdout stays clean for CLI output such as ``-o json``.

The standard library's loggers (aiohttp's ``aiohttp.server``, ``aiohttp.access``, ``asyncio``, ...)
are rendered by the same processors through one root handler, so they too are single-line JSON
with a traceback, if any, in the ``exception`` field. ``aiohttp.access`` (a line per request) is
kept at warning unless the level is debug.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog

LogFormat = Literal["auto", "json", "console"]

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def level_number(level: str) -> int:
    """Map a level name from settings to its number; unknown names are a ``ValueError``."""
    try:
        return LEVELS[level.lower()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}") from None


_HANDLER_NAME = "minecs"
_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
]


def configure(level: str = "info", fmt: LogFormat = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog (and the stdlib loggers) for this process. Call once, before the first log line."""
    out = stream if stream is not None else sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[*_SHARED, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level_number(level)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    _configure_stdlib(level_number(level), renderer, out)


def _configure_stdlib(level: int, renderer: structlog.types.Processor, out: TextIO) -> None:
    unconfigure_stdlib()
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[_logger_name, *_SHARED],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(level if level <= logging.DEBUG else logging.WARNING)


def unconfigure_stdlib() -> None:
    """Remove the root handler ``configure`` installed (tests call it; configuring again does too)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)


def _logger_name(
    logger: object, method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """A stdlib record's logger name under the key our own events use (``logger_name``)."""
    record = event_dict.get("_record")
    if record is not None:
        event_dict["logger_name"] = record.name
    return event_dict


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A logger bound to the module ``name``; use ``get_logger(__name__)``."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(logger_name=name)
    return logger
