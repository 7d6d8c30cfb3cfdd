"""Logging: JSON lines off a TTY, levels from settings, bound context on every line."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from minecs import logs


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_json_lines_when_not_a_tty_with_context_and_level() -> None:
    out = io.StringIO()
    logs.configure("info", "auto", stream=out)
    with structlog.contextvars.bound_contextvars(task_id="t-1"):
        logs.get_logger("minecs.test").info("task started", container="web")
    line = json.loads(out.getvalue())
    assert line["event"] == "task started"
    assert (line["task_id"], line["container"], line["level"]) == ("t-1", "web", "info")
    assert line["logger_name"] == "minecs.test"
    assert line["timestamp"].endswith("Z")


def test_level_filters_lower_events() -> None:
    out = io.StringIO()
    logs.configure("warning", "json", stream=out)
    log = logs.get_logger("minecs.test")
    log.info("quiet")
    log.warning("loud")
    assert [json.loads(x)["event"] for x in out.getvalue().splitlines()] == ["loud"]


def test_console_format_is_plain_text() -> None:
    out = io.StringIO()
    logs.configure("debug", "console", stream=out)
    logs.get_logger("minecs.test").debug("hello", k="v")
    assert "hello" in out.getvalue()
    assert "k=v" in out.getvalue()


def test_unknown_level_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown log level 'chatty'"):
        logs.level_number("chatty")
