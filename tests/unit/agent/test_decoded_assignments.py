"""The agent's decoding of poll answers: an unchanged task is not decoded again."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.daemon import DecodedAssignments
from minecs.model.registered import register
from minecs.model.task import DesiredStatus, TaskAssignment
from minecs.model.wire import assignment_to_json
from minecs.validation import parse_task_definition

REGISTERED = datetime(2026, 11, 26, tzinfo=UTC)


def task(n: int, desired: DesiredStatus = DesiredStatus.RUNNING) -> TaskAssignment:
    spec = parse_task_definition(
        {"family": "f", "containerDefinitions": [{"name": "app", "image": "busybox", "memory": 16}]}
    )
    td = register(spec, arn="arn:aws:ecs:r:1:task-definition/f:1", revision=1, registered_at=REGISTERED)
    return TaskAssignment(
        task_arn=f"arn:aws:ecs:r:1:task/default/t{n}",
        cluster="default",
        definition=td,
        desired_status=desired,
    )


def test_unchanged_tasks_keep_their_decoding_and_changed_ones_are_decoded_again() -> None:
    decoded = DecodedAssignments()
    first = decoded.of([assignment_to_json(task(1)), assignment_to_json(task(2))])
    assert first == [task(1), task(2)]
    second = decoded.of([assignment_to_json(task(1)), assignment_to_json(task(2, DesiredStatus.STOPPED))])
    assert second[0] is first[0]
    assert second[1] == task(2, DesiredStatus.STOPPED)


def test_a_task_left_out_of_an_answer_is_forgotten() -> None:
    decoded = DecodedAssignments()
    (one,) = decoded.of([assignment_to_json(task(1))])
    assert decoded.of([]) == []
    (again,) = decoded.of([assignment_to_json(task(1))])
    assert again == one
    assert again is not one
