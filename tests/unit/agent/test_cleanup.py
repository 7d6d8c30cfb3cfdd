"""The cleanup wait counts from the task's stoppedAt, not from whenever the runner last started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.tasks.memory import cleanup_left

STOPPED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WAIT = 3 * 3600.0  # ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION's default, 3 h


def test_a_task_stopped_just_now_waits_the_whole_wait() -> None:
    assert cleanup_left(STOPPED, STOPPED, WAIT) == WAIT


def test_an_agent_restarted_an_hour_after_the_stop_waits_the_two_hours_left() -> None:
    assert cleanup_left(STOPPED, STOPPED + timedelta(hours=1), WAIT) == 2 * 3600.0


def test_a_task_past_its_wait_is_cleaned_at_once() -> None:
    assert cleanup_left(STOPPED, STOPPED + timedelta(hours=5), WAIT) == 0.0


def test_a_task_with_no_stopped_at_waits_the_whole_wait() -> None:
    assert cleanup_left(None, STOPPED, WAIT) == WAIT
