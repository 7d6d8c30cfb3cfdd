"""``minecs logs``' pure parts: the container it picks, the ``TASKID8 | `` prefix, ``service/NAME``."""

from __future__ import annotations

import pytest

from minecs.cli.logs import Choice, Prefixed, choose_container, service_target
from minecs.errors import MinecsError


def test_the_only_container_is_chosen_without_a_word() -> None:
    assert choose_container([("app", True)]) == Choice("app")
    assert Choice("app").notice() is None


def test_the_only_essential_container_is_chosen_and_said() -> None:
    chosen = choose_container([("init", False), ("web", True), ("log-sidecar", False)])
    assert chosen.name == "web"
    assert chosen.notice() == (
        'minecs: showing container "web" (the task\'s only essential container); -c picks another'
    )


@pytest.mark.parametrize("essential", [(True, True), (False, False)])
def test_no_single_essential_container_asks_for_c_and_lists_them(essential: tuple[bool, bool]) -> None:
    with pytest.raises(MinecsError) as refused:
        choose_container(list(zip(["api", "web"], essential, strict=True)))
    assert refused.value.message.endswith("choose one with -c: api, web")


def test_lines_are_prefixed_whole_and_a_partial_line_waits_for_its_end() -> None:
    lines = Prefixed("0123456789abcdef")
    assert lines.feed(b"one\ntw") == b"01234567 | one\n"
    assert lines.feed(b"o\n") == b"01234567 | two\n"
    assert lines.feed(b"three") == b""
    assert lines.end() == b"01234567 | three\n"
    assert lines.end() == b""


@pytest.mark.parametrize(
    ("word", "service"),
    [("service/demo-web", "demo-web"), ("svc/demo-web", "demo-web"), ("1a2b3c", None), ("service/", None)],
)
def test_service_or_svc_names_a_service(word: str, service: str | None) -> None:
    assert service_target(word) == service
