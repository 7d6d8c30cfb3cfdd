"""The agent's retry pacing toward an unreachable controller: doubling from ``agent.backoff_start``
to ``agent.backoff_max``, and back to the start once the controller answers."""

from __future__ import annotations

import pytest

from agent.link.client import Backoff
from minecs.errors import SettingsError
from minecs.settings import AgentSettings, load


def test_the_waits_double_up_to_the_most_and_an_answer_starts_them_again() -> None:
    backoff = Backoff(1.0, 30.0)
    assert [backoff.failed() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    backoff.answered()
    assert backoff.failed() == 1.0


def test_the_defaults_are_one_second_doubling_to_thirty() -> None:
    settings = AgentSettings()
    assert (settings.backoff_start, settings.backoff_max) == (1.0, 30.0)
    assert Backoff().failed() == 1.0


def test_the_pacing_is_set_from_the_environment() -> None:
    config = load(None, {"MINECS_AGENT_BACKOFF_START": "0.5", "MINECS_AGENT_BACKOFF_MAX": "4"})
    backoff = Backoff(config.agent.backoff_start, config.agent.backoff_max)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_a_most_below_the_start_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError, match=r"agent.backoff_max: 0.5 must be >= backoff_start \(1.0\)"):
        AgentSettings(backoff_max=0.5)
