"""The agent's decoding of poll answers: what is unchanged since the last answer is not decoded again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.link.polling import DecodedAssignments
from minecs.model.registered import register
from minecs.model.registered import to_json as taskdef_to_json
from minecs.model.task import DesiredStatus, TaskAssignment
from minecs.model.taskdef import TaskDefinition
from minecs.model.wire import assignment_to_json
from minecs.validation import parse_task_definition

REGISTERED = datetime(2026, 11, 26, tzinfo=UTC)
REF = "arn:aws:ecs:r:1:task-definition/f:1"


def definition(memory: int = 16) -> TaskDefinition:
    spec = parse_task_definition(
        {"family": "f", "containerDefinitions": [{"name": "app", "image": "busybox", "memory": memory}]}
    )
    return register(spec, arn=REF, revision=1, registered_at=REGISTERED)


def task(n: int, desired: DesiredStatus = DesiredStatus.RUNNING, memory: int = 16) -> TaskAssignment:
    return TaskAssignment(
        task_arn=f"arn:aws:ecs:r:1:task/default/t{n}",
        cluster="default",
        definition=definition(memory),
        desired_status=desired,
    )


def answer(*tasks: TaskAssignment) -> dict[str, Any]:
    return {
        "tasks": [assignment_to_json(t, definition_ref=REF) for t in tasks],
        "taskDefinitions": {REF: taskdef_to_json(tasks[-1].definition)} if tasks else {},
    }


def test_unchanged_tasks_keep_their_decoding_and_changed_ones_are_decoded_again() -> None:
    decoded = DecodedAssignments()
    first = decoded.of(answer(task(1), task(2)))
    assert first == [task(1), task(2)]
    assert first[0].definition is first[1].definition  # one definition, decoded once
    second = decoded.of(answer(task(1), task(2, DesiredStatus.STOPPED)))
    assert second[0] is first[0]
    assert second[1] == task(2, DesiredStatus.STOPPED)


def test_a_changed_definition_is_decoded_again_for_every_task_naming_it() -> None:
    decoded = DecodedAssignments()
    decoded.of(answer(task(1)))
    (changed,) = decoded.of(answer(task(1, memory=32)))
    assert changed == task(1, memory=32)


def test_a_task_left_out_of_an_answer_is_forgotten() -> None:
    decoded = DecodedAssignments()
    (one,) = decoded.of(answer(task(1)))
    assert decoded.of(answer()) == []
    (again,) = decoded.of(answer(task(1)))
    assert again == one
    assert again is not one


def test_a_task_with_its_definition_inline_is_decoded() -> None:
    assert DecodedAssignments().of({"tasks": [assignment_to_json(task(1))]}) == [task(1)]
